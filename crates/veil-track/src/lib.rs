//! Multi-object tracking of persons and faces for Veil
