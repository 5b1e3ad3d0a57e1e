//! `layerwaste completions SHELL` and `layerwaste man`: both generated from the clap
//! definitions in `cli.rs`, so they cannot fall behind the flags.

use std::io::Write;

use clap::CommandFactory;

use super::cli::Cli;
use super::exit::ExitCode;

pub fn completions(shell: clap_complete::Shell, out: &mut dyn Write) -> anyhow::Result<ExitCode> {
    let mut command = Cli::command();
    let mut buffer = Vec::new();
    clap_complete::generate(shell, &mut command, "layerwaste", &mut buffer);
    out.write_all(&buffer)?;
    out.flush()?;
    Ok(ExitCode::Success)
}

/// One page for the whole tool: the top-level page, then each subcommand's page, as
/// `git help` pages read. clap_mangen writes one page per command; joining them keeps a
/// single `layerwaste.1` that holds every flag.
pub fn man(out: &mut dyn Write) -> anyhow::Result<ExitCode> {
    let command = Cli::command();
    let mut top = Vec::new();
    clap_mangen::Man::new(command.clone()).render(&mut top)?;
    // The subcommands are sections of this page, not pages of their own.
    let mut top = String::from_utf8_lossy(&top).into_owned();
    for sub in command.get_subcommands() {
        let name = sub.get_name();
        top = top.replace(
            &format!("layerwaste\\-{}(1)", name.replace('-', "\\-")),
            &format!("layerwaste {name}"),
        );
    }
    let mut buffer = top.into_bytes();
    for sub in command.get_subcommands() {
        let name = sub.get_name().to_string();
        // The synopsis names the command by its bin name: `layerwaste analyze`.
        let sub = sub.clone().bin_name(format!("layerwaste {name}"));
        let man = clap_mangen::Man::new(sub);
        // Each of the subcommand's sections is headed with its name, so the page reads
        // LAYERWASTE ANALYZE, then its synopsis, description and options.
        let mut page = Vec::new();
        man.render_synopsis_section(&mut page)?;
        man.render_description_section(&mut page)?;
        man.render_options_section(&mut page)?;
        let page = String::from_utf8_lossy(&page)
            .replace(".SH ", &format!(".SH {}\\ ", name.to_uppercase()));
        buffer.extend_from_slice(page.as_bytes());
    }
    out.write_all(&buffer)?;
    out.flush()?;
    Ok(ExitCode::Success)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::ValueEnum as _;

    /// Every subcommand and every long flag, from the clap definitions themselves, so
    /// the tests stay true when a flag is added.
    fn subcommands() -> Vec<String> {
        Cli::command()
            .get_subcommands()
            .map(|s| s.get_name().to_string())
            .collect()
    }

    fn long_flags(command: &clap::Command) -> Vec<String> {
        let mut flags: Vec<String> = command
            .get_arguments()
            .filter_map(|a| a.get_long().map(|l| format!("--{l}")))
            .collect();
        for sub in command.get_subcommands() {
            flags.extend(long_flags(sub));
        }
        flags.sort();
        flags.dedup();
        flags
    }

    #[test]
    fn every_shell_script_names_every_subcommand() {
        let names = subcommands();
        assert!(names.len() >= 4, "{names:?}");
        for shell in clap_complete::Shell::value_variants() {
            let mut out = Vec::new();
            completions(*shell, &mut out).expect("generates");
            let script = String::from_utf8(out).expect("UTF-8");
            assert!(!script.is_empty(), "{shell}");
            for name in &names {
                assert!(
                    script.contains(name.as_str()),
                    "{shell} script lacks {name}"
                );
            }
            // The flags are completed too: the longest ones are the likeliest to be
            // left out by a hand-written script.
            for flag in ["--max-wasted-percent", "--fail-on-increase", "--dockerfile"] {
                assert!(
                    script.contains(flag.trim_start_matches('-')),
                    "{shell} lacks {flag}"
                );
            }
        }
    }

    #[test]
    fn man_page_holds_every_flag() {
        let mut out = Vec::new();
        man(&mut out).expect("renders");
        let page = String::from_utf8(out).expect("UTF-8");
        // roff escapes every `-` as `\-`.
        let plain = page.replace("\\-", "-");
        let flags = long_flags(&Cli::command());
        assert!(flags.len() > 20, "{flags:?}");
        for flag in &flags {
            assert!(
                plain.contains(&format!("\\fB{flag}\\fR")),
                "the man page lacks {flag}"
            );
        }
        for name in subcommands().iter().filter(|n| *n != "help") {
            assert!(
                plain.contains(&format!(".SH {}\\ SYNOPSIS", name.to_uppercase())),
                "{name}"
            );
        }
        assert!(page.starts_with(".ie \\n(.g .ds Aq") || page.contains(".TH layerwaste 1"));
    }
}
