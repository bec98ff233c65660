//! bulwark's integration tests: one binary, one module per area.

mod util;

mod admission;
mod bad_input;
mod engine;
mod installed_vs_declared;
mod k8s;
mod lang_go_rust;
mod lang_java;
mod lang_new_ecosystems;
mod lang_python_node;
mod lang_ruby_php_dotnet;
mod library;
mod misconfig;
mod new_ecosystems;
mod policy;
mod reach;
mod real_images;
mod redaction;
mod registry;
mod report_formats;
mod round_trip;
mod runtime;
mod sbom_formats;
mod sbom_input;
mod secret_files;
mod secrets;
mod secrets_archives;
mod self_scan;
mod server;
mod synthetic;
mod vulns;
