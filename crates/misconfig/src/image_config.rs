//! Checks on an image's own configuration and files (to be written).
