//! Benchmark support for earpatch.
//!
//! [`large`] generates large synthetic enterprise applications (an EAR, the
//! same application expanded, and a partial update against it),
//! deterministically, with bounded memory; the `gen-large` binary is its
//! command line.

pub mod data;
pub mod large;
