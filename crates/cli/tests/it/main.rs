//! bulwark's integration tests: one binary, one module per area.

mod util;

mod bad_input;
mod real_images;
mod sbom_formats;
mod lang_python_node;
mod synthetic;
