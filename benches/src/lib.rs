//! Benchmark support for earpatch.
//!
//! [`large`] generates large synthetic enterprise applications (an EAR, the
//! same application expanded, and a partial update against it),
//! deterministically, with bounded memory; the `gen-large` binary is its
//! command line. [`entries`] writes partial updates of many small files
//! into one module (the `gen-entries` binary), to time `plan` against the
//! number of update entries.

pub mod data;
pub mod entries;
pub mod large;
