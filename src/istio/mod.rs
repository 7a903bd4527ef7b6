//! The output model: the objects `render` makes (Istio's, and the repo's passthrough objects),
//! below both `render` and `validate`, read by `diff` and the front ends too.

pub mod object;
