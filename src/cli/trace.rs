//! `meshform trace`.

use super::common::{input_failed, print_diagnostics, print_stdout, SourceArgs};
use super::Exit;
use crate::diag::codes::Run;
use crate::diag::{Diagnostic, Severity};
use crate::pipeline;
use crate::trace::{self, Caller, Request};

/// Output format for `trace`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// For people, with file:line for each Gloo source.
    Text,
    /// The whole trace as one JSON object.
    Json,
}

/// Arguments of `trace`.
#[derive(Debug, clap::Args)]
#[command(allow_missing_positional = true)]
pub struct Args {
    #[command(flatten)]
    pub source: SourceArgs,
    /// The request's URL: http[s]://HOST[:PORT]/PATH[?QUERY].
    pub url: String,
    /// The request arrives at this ingress gateway: a VirtualGateway, or the Istio Gateway it
    /// renders, as NAMESPACE/NAME.
    #[arg(long, value_name = "NS/NAME", conflicts_with = "from")]
    pub gateway: Option<String>,
    /// The request comes from a sidecar in this namespace.
    #[arg(long, value_name = "NS")]
    pub from: Option<String>,
    /// A label of the calling workload, KEY=VALUE (repeatable; with --from), matched by
    /// `sourceLabels`.
    #[arg(long = "from-label", value_name = "KEY=VALUE", requires = "from")]
    pub from_labels: Vec<String>,
    /// The request method.
    #[arg(
        short = 'X',
        long = "request",
        value_name = "METHOD",
        default_value = "GET"
    )]
    pub method: String,
    /// A request header, 'Name: value' (repeatable).
    #[arg(short = 'H', long = "header", value_name = "HEADER")]
    pub headers: Vec<String>,
    /// Output format on stdout.
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
}

/// A usage error of `trace`, printed with nothing on stdout.
fn usage(code: Run, message: String, help: &str) -> Exit {
    print_diagnostics(&[Diagnostic::error(code, message).help(help)], &[], 1);
    Exit::Error
}

/// Runs `trace`: exit 0 when a route is found, 1 for no route or no host, 2 for usage or
/// input errors.
pub fn run(args: Args) -> Exit {
    let request = match Request::parse(&args.url, Some(&args.method), &args.headers) {
        Ok(r) => r,
        Err(e) => {
            return usage(
                Run::TraceRequest,
                e.to_string(),
                "write the URL as http://HOST/PATH, -X METHOD and -H 'Name: value'",
            )
        }
    };
    let caller = match (&args.gateway, &args.from) {
        (Some(g), _) => Caller::gateway(g),
        (None, Some(ns)) => Caller::mesh(ns, &args.from_labels),
        (None, None) => {
            return usage(
                Run::TraceCaller,
                "trace needs a caller: --gateway NS/NAME or --from NS".to_string(),
                "name the ingress VirtualGateway the request arrives at, or the namespace of the calling workload",
            )
        }
    };
    let caller = match caller {
        Ok(c) => c,
        Err(e) => {
            return usage(
                Run::TraceRequest,
                e.to_string(),
                "write --gateway NAMESPACE/NAME and --from-label KEY=VALUE",
            )
        }
    };
    let mut opts = match args.source.options() {
        Ok(o) => o,
        Err(d) => {
            print_diagnostics(&[d], &[], 1);
            return Exit::Error;
        }
    };
    // A trace reads the rendered objects, not the policies' findings.
    opts.skip_policies = true;
    let origin = args.source.origin();
    let loaded = pipeline::load(&origin, &opts).and_then(|r| pipeline::run(r, &opts));
    let outcome = match loaded {
        Ok(o) => o,
        Err(e) => return input_failed(&origin, e, "traced"),
    };
    let cap = outcome.repo.limits.max_diagnostics;
    print_diagnostics(&outcome.shown(), &outcome.repo.files, cap);
    if outcome.has_errors() {
        eprintln!(
            "error: {}; nothing traced (the output would not be what Gloo writes; run `meshform check` for details)",
            crate::diag::count(outcome.count(Severity::Error), "error", "errors")
        );
        return Exit::Findings;
    }
    let cluster = match args.source.clusters.first() {
        Some(c) => c.clone(),
        None => {
            if outcome.repo.clusters.len() > 1 {
                return usage(
                    Run::SeveralClusters,
                    format!(
                        "this repo has {} clusters ({}); a request is traced in one",
                        outcome.repo.clusters.len(),
                        outcome.repo.clusters.join(", ")
                    ),
                    "name the cluster with --cluster",
                );
            }
            outcome.repo.clusters.first().cloned().unwrap_or_default()
        }
    };
    let t =
        match trace::trace(&outcome.objects, &outcome.repo, &cluster, &request, &caller) {
            Ok(t) => t,
            Err(e) => return usage(
                Run::TraceCaller,
                e.to_string(),
                "name a VirtualGateway as NAMESPACE/NAME, or trace from a sidecar with --from NS",
            ),
        };
    let text = match args.format {
        Format::Text => trace::text(&t),
        Format::Json => match serde_json::to_string_pretty(&t) {
            Ok(mut s) => {
                s.push('\n');
                s
            }
            Err(e) => {
                eprintln!("error: cannot write JSON: {e}");
                return Exit::Error;
            }
        },
    };
    print_stdout(&text);
    if t.outcome.status.found() {
        Exit::Clean
    } else {
        Exit::Findings
    }
}
