//! Unit tests of veil-video over the real fixture clip.
