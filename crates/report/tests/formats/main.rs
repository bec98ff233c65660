//! The renderers over one hand-made report that has every finding kind, hostile text,
//! suppressions, gates and an error diagnostic: validated against the official schemas
//! vendored in `schemas/` (SARIF 2.1.0, CycloneDX 1.6, SPDX 2.3, the Ant JUnit XSD), checked
//! for the fields consumers rely on, escaping, size bounds and byte-for-byte determinism.

mod common;
mod golden;
mod json_formats;
mod text_formats;
