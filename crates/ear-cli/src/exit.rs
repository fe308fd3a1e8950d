//! How a run ends: the one [`ExitStatus`] enum, the exit codes the help text
//! promises, and the [`Failure`] a run can end with.
//!
//! This module only names and converts statuses: it never prints and never
//! decides which status a command ends with (the commands and the printer do).

use std::process::ExitCode;

/// The error a run can end with: printed as `error: <cause chain>`, exit 1.
pub type Failure = Box<dyn std::error::Error>;

/// The exit status of `earpatch` (documented in `earpatch --help`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// Everything went well (also `--help` and `--version`).
    Success = 0,
    /// Bad input, a refused plan (`--strict`), an I/O error.
    Failure = 1,
    /// A usage error, reported by clap.
    Usage = 2,
    /// `impact --fail-on`: the impact reaches the threshold.
    ImpactOverThreshold = 3,
    /// The application was changed (applied or rolled back), then its
    /// post-apply or post-rollback hook failed.
    PostHookFailed = 4,
}

impl ExitStatus {
    /// The status clap's own error (a usage error, or `--help`) exits with.
    pub fn of_clap(err: &clap::Error) -> ExitStatus {
        if err.use_stderr() {
            ExitStatus::Usage
        } else {
            ExitStatus::Success
        }
    }
}

impl From<ExitStatus> for ExitCode {
    fn from(status: ExitStatus) -> ExitCode {
        ExitCode::from(status as u8)
    }
}

#[cfg(test)]
mod tests {
    use super::ExitStatus;

    #[test]
    fn the_codes_are_the_documented_ones() {
        let codes = [
            ExitStatus::Success,
            ExitStatus::Failure,
            ExitStatus::Usage,
            ExitStatus::ImpactOverThreshold,
            ExitStatus::PostHookFailed,
        ]
        .map(|s| s as u8);
        assert_eq!(codes, [0, 1, 2, 3, 4]);
    }
}
