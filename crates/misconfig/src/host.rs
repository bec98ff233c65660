//! Docker host checks read from a root filesystem (to be written).
