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

/// The exit code for a command's outcome. An error is printed here, once; a closed pipe
/// (`layerwaste analyze x | head`) is not an error.
pub fn from_outcome(outcome: anyhow::Result<ExitCode>) -> ExitCode {
    match outcome {
        Ok(code) => code,
        Err(err) if is_broken_pipe(&err) => ExitCode::Success,
        Err(err) => {
            eprintln!("layerwaste: error: {err:#}");
            ExitCode::Error
        }
    }
}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|e| {
        e.downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    })
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

    #[test]
    fn a_closed_pipe_is_success_and_other_errors_are_2() {
        let pipe = anyhow::Error::new(std::io::Error::from(std::io::ErrorKind::BrokenPipe))
            .context("writing the table");
        assert_eq!(from_outcome(Err(pipe)), ExitCode::Success);
        assert_eq!(
            from_outcome(Err(anyhow::anyhow!("no such image"))),
            ExitCode::Error
        );
        assert_eq!(
            from_outcome(Ok(ExitCode::ThresholdExceeded)),
            ExitCode::ThresholdExceeded
        );
    }
}
