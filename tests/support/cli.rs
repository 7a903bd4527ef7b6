//! The meshform binary as a command, and what a run of it printed.

use std::ffi::OsStr;
use std::io::{Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The binary cargo built for this test run.
pub const BIN: &str = env!("CARGO_BIN_EXE_meshform");

/// How long a run may take before it is killed and the test fails. Generous: a debug build
/// on a loaded 2-core CI runner. A hang is caught, never timed.
pub const TIMEOUT: Duration = Duration::from_secs(180);

/// The path of the binary; panics when it is missing or not executable, so that no test
/// runs without it.
pub fn bin() -> &'static Path {
    let meta = std::fs::metadata(BIN).unwrap_or_else(|e| {
        panic!("the meshform binary is missing at {BIN} ({e}); `cargo test` builds it")
    });
    assert!(
        meta.is_file() && meta.permissions().mode() & 0o111 != 0,
        "{BIN} is not an executable file"
    );
    Path::new(BIN)
}

/// `meshform` with no arguments yet; panics when the binary is missing.
///
/// The run does not inherit `RUST_LOG` (log lines would land in stderr) or
/// `RAYON_NUM_THREADS`, and has `NO_COLOR=1`; stdin is empty unless [`Cli::stdin`] sets it.
pub fn meshform() -> Cli {
    let mut c = Cli::program(bin());
    c.env_remove("RUST_LOG")
        .env_remove("RAYON_NUM_THREADS")
        .env("NO_COLOR", "1");
    c
}

/// A command to run with a timeout, capturing stdout and stderr.
pub struct Cli {
    cmd: Command,
    stdin: Option<Vec<u8>>,
    timeout: Duration,
}

impl Cli {
    /// Any program (a link to the binary, or a wrapper such as `setpriv` running it), with the
    /// inherited environment.
    pub fn program(program: impl AsRef<OsStr>) -> Cli {
        Cli {
            cmd: Command::new(program),
            stdin: None,
            timeout: TIMEOUT,
        }
    }

    pub fn arg(&mut self, a: impl AsRef<OsStr>) -> &mut Cli {
        self.cmd.arg(a);
        self
    }

    pub fn args<I, S>(&mut self, args: I) -> &mut Cli
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.cmd.args(args);
        self
    }

    pub fn current_dir(&mut self, dir: impl AsRef<Path>) -> &mut Cli {
        self.cmd.current_dir(dir);
        self
    }

    pub fn env(&mut self, k: impl AsRef<OsStr>, v: impl AsRef<OsStr>) -> &mut Cli {
        self.cmd.env(k, v);
        self
    }

    pub fn envs<I, K, V>(&mut self, vars: I) -> &mut Cli
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<OsStr>,
        V: AsRef<OsStr>,
    {
        self.cmd.envs(vars);
        self
    }

    pub fn env_remove(&mut self, k: impl AsRef<OsStr>) -> &mut Cli {
        self.cmd.env_remove(k);
        self
    }

    /// Starts from an empty environment: only what is set after this call.
    pub fn env_clear(&mut self) -> &mut Cli {
        self.cmd.env_clear();
        self
    }

    /// Feeds `data` to stdin.
    pub fn stdin(&mut self, data: impl Into<Vec<u8>>) -> &mut Cli {
        self.stdin = Some(data.into());
        self
    }

    /// Replaces the default [`TIMEOUT`].
    pub fn timeout(&mut self, t: Duration) -> &mut Cli {
        self.timeout = t;
        self
    }

    /// Runs the command to its end; panics when it cannot start, outlives its timeout (it is
    /// killed), or prints anything but UTF-8.
    #[must_use = "a run's exit code and output are there to be checked"]
    pub fn run(&mut self) -> Run {
        let what = format!("{:?}", self.cmd);
        let mut child = self
            .cmd
            .stdin(if self.stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("{what} does not start: {e}"));
        let feeder = self.stdin.clone().map(|data| {
            let mut w = child.stdin.take().expect("piped stdin");
            // A program that exits without reading all of stdin closes the pipe; that is its
            // business, so the write error is ignored.
            std::thread::spawn(move || {
                let _ = w.write_all(&data);
            })
        });
        let drain = |r: Option<Box<dyn Read + Send>>| {
            let mut r = r.expect("piped output");
            std::thread::spawn(move || {
                let mut buf = Vec::new();
                r.read_to_end(&mut buf).map(|_| buf)
            })
        };
        let out = drain(child.stdout.take().map(|r| Box::new(r) as _));
        let err = drain(child.stderr.take().map(|r| Box::new(r) as _));
        let start = Instant::now();
        let mut pause = Duration::from_millis(1);
        let status = loop {
            if let Some(s) = child.try_wait().expect("wait for the child") {
                break s;
            }
            if start.elapsed() > self.timeout {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "{what} did not finish within {:?} and was killed",
                    self.timeout
                );
            }
            std::thread::sleep(pause);
            pause = (pause * 2).min(Duration::from_millis(5));
        };
        if let Some(f) = feeder {
            f.join().expect("stdin writer");
        }
        let text = |t: std::thread::JoinHandle<std::io::Result<Vec<u8>>>, stream: &str| {
            let bytes = t
                .join()
                .expect("output reader")
                .unwrap_or_else(|e| panic!("{what}: reading {stream}: {e}"));
            String::from_utf8(bytes)
                .unwrap_or_else(|e| panic!("{what}: {stream} is not UTF-8: {e}"))
        };
        Run {
            code: status.code(),
            stdout: text(out, "stdout"),
            stderr: text(err, "stderr"),
        }
    }
}

/// A finished run. `code` is None when a signal ended it.
#[must_use = "a run's exit code and output are there to be checked"]
#[derive(Debug, Clone)]
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Asserts exit 0; returns stdout.
    #[track_caller]
    pub fn success(&self) -> &str {
        self.exit(0);
        &self.stdout
    }

    /// Asserts the exit code.
    #[track_caller]
    pub fn exit(&self, code: i32) -> &Run {
        assert_eq!(
            self.code,
            Some(code),
            "expected exit {code}\nstderr:\n{}\nstdout:\n{}",
            self.stderr,
            self.stdout
        );
        self
    }

    /// Asserts a failure: exit `code`, nothing on stdout (Argo CD prunes what a render leaves
    /// out), and every needle in stderr.
    #[track_caller]
    pub fn fails(&self, code: i32, needles: &[&str]) -> &Run {
        self.exit(code);
        assert!(
            self.stdout.is_empty(),
            "stdout must be empty on error, got:\n{}",
            self.stdout
        );
        self.stderr_has(needles)
    }

    /// Asserts an input or usage error: [`Run::fails`] with exit 2.
    #[track_caller]
    pub fn input_error(&self, needles: &[&str]) -> &Run {
        self.fails(2, needles)
    }

    /// Asserts that stderr holds every needle.
    #[track_caller]
    pub fn stderr_has(&self, needles: &[&str]) -> &Run {
        for n in needles {
            assert!(!n.is_empty(), "an empty needle matches anything");
            assert!(
                self.stderr.contains(n),
                "stderr lacks {n:?}:\n{}",
                self.stderr
            );
        }
        self
    }

    /// Asserts that stdout holds every needle.
    #[track_caller]
    pub fn stdout_has(&self, needles: &[&str]) -> &Run {
        for n in needles {
            assert!(!n.is_empty(), "an empty needle matches anything");
            assert!(
                self.stdout.contains(n),
                "stdout lacks {n:?}:\n{}",
                self.stdout
            );
        }
        self
    }

    /// stdout parsed as JSON.
    #[track_caller]
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", self.stdout))
    }

    /// The exit code, stdout and stderr as one text, for a snapshot.
    pub fn transcript(&self) -> String {
        let code = self
            .code
            .map_or_else(|| "none (signal)".to_string(), |c| c.to_string());
        format!(
            "exit: {code}\n--- stdout\n{}--- stderr\n{}",
            ends_with_newline(&self.stdout),
            ends_with_newline(&self.stderr)
        )
    }
}

/// `s`, with a final newline when it is not empty and lacks one (a snapshot must show where a
/// stream ends; one without a final newline is marked).
fn ends_with_newline(s: &str) -> String {
    if s.is_empty() || s.ends_with('\n') {
        s.to_string()
    } else {
        format!("{s}\n<no newline at end>\n")
    }
}
