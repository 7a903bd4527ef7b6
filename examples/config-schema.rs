//! Prints the JSON Schema of meshform.yaml: `cargo run --example config-schema > docs/config.schema.json`.

fn main() {
    print!("{}", meshform::config::json_schema());
}
