//! The retention planner: which recordings to delete now, which to keep and why.
//!
//! `input` reads and checks what the planner looks at, `policy` holds the limits, `plan`
//! decides, and `report` prints a plan for people.

mod budget;
mod input;
mod plan;
mod policy;
mod report;

pub use budget::{apply_storage_budget, BudgetPlan};
pub use input::{
    load_access, load_erasures, load_holds, load_recordings, AccessFile, AccessRequest, ErasureRequest,
    ErasuresFile, Hold, HoldsFile, PlanInput, Recording, RecordingsFile, PLAN_VERSION,
};
pub use plan::{
    plan, plan_from_files, plan_with_retention, DeleteReason, Deletion, ErasureDecision, ErasureOutcome,
    KeepReason, Plan, RefusedErasure, Retained,
};
pub use policy::{Policy, DEFAULT_RETENTION_DAYS};
