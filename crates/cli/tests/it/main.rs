//! bulwark's integration tests: one binary, one module per area.

mod util;

mod bad_input;
mod lang_python_node;
mod real_images;
mod sbom_formats;
mod secrets;
mod synthetic;
