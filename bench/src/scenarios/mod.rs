//! One module per scenario of DESIGN.md §11.

pub mod projection;
