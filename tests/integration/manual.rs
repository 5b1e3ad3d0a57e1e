//! `layerwaste completions` and `layerwaste man`, end to end: the scripts a shell
//! loads and the page `man` reads. (Which names and flags they hold is checked against
//! the clap definitions in src/manual.rs's unit tests.)

use std::process::Command;

use crate::common::layerwaste;

fn stdout(args: &[&str]) -> String {
    let out = layerwaste().args(args).output().expect("runs");
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8")
}

#[test]
fn every_shell_gets_a_script() {
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let script = stdout(&["completions", shell]);
        for sub in ["analyze", "diff", "completions", "man"] {
            assert!(script.contains(sub), "{shell} lacks {sub}");
        }
    }
    layerwaste().args(["completions", "tcsh"]).assert().code(2);
}

#[test]
fn bash_loads_the_script_and_completes_a_subcommand() {
    let script = stdout(&["completions", "bash"]);
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("layerwaste.bash");
    std::fs::write(&path, script).expect("write");
    // Load it, then ask for the completions of `layerwaste di` as bash would.
    let probe = format!(
        "source {}; COMP_WORDS=(layerwaste di); COMP_CWORD=1; _layerwaste layerwaste di layerwaste; printf '%s\\n' \"${{COMPREPLY[@]}}\"",
        path.display()
    );
    let out = Command::new("bash")
        .args(["-c", &probe])
        .output()
        .expect("bash runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout), "diff\n");
}

#[test]
fn man_renders_a_page_with_every_subcommand() {
    let page = stdout(&["man"]);
    assert!(
        page.contains(".TH layerwaste 1"),
        "{}",
        &page[..200.min(page.len())]
    );
    for section in [
        "ANALYZE\\ SYNOPSIS",
        "DIFF\\ OPTIONS",
        "COMPLETIONS\\ SYNOPSIS",
    ] {
        assert!(page.contains(section), "lacks {section}");
    }
    assert!(page.contains("\\-\\-max\\-wasted\\-percent"));
    assert!(page.contains("\\-\\-fail\\-on\\-increase"));
}
