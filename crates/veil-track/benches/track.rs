//! Tracker cost per frame.
fn main() {}
