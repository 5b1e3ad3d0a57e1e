//! The process's exit codes: a contract with CI scripts, so they are an enum with tests.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitCode {
    /// The analysis ran and every threshold held.
    Success,
    /// The analysis ran and a threshold was crossed.
    ThresholdExceeded,
    /// The image could not be analysed, or the command line was wrong.
    Error,
}

impl ExitCode {
    pub fn code(self) -> u8 {
        match self {
            ExitCode::Success => 0,
            ExitCode::ThresholdExceeded => 1,
            ExitCode::Error => 2,
        }
    }
}

impl From<ExitCode> for std::process::ExitCode {
    fn from(c: ExitCode) -> Self {
        std::process::ExitCode::from(c.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_stable() {
        assert_eq!(ExitCode::Success.code(), 0);
        assert_eq!(ExitCode::ThresholdExceeded.code(), 1);
        assert_eq!(ExitCode::Error.code(), 2);
    }
}
