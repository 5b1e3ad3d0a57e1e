//! The house's rules, checked on the source (docs/architecture.md): each room of the
//! library imports only the rooms below it and the leaves, so there is no import cycle
//! and no arrow back up; the binary's own room (`src/app/`) is imported by nothing in
//! the library; and the library never touches the terminal's crates.

use std::collections::BTreeSet;
use std::path::Path;

use crate::common::root;

/// The rooms, lowest first. The leaves may be imported by every room and import only
/// each other.
const LEAVES: &[&str] = &["error", "text", "progress"];
const ROOMS: &[&str] = &[
    "format", "source", "walk", "model", "explain", "analyze", "fleet", "report",
];

fn rank(room: &str) -> Option<usize> {
    if LEAVES.contains(&room) {
        return Some(0);
    }
    ROOMS.iter().position(|r| *r == room).map(|i| i + 1)
}

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The rooms a file's code names through `crate::ROOM`, comments left out.
fn imported_rooms(text: &str) -> BTreeSet<String> {
    let mut rooms = BTreeSet::new();
    for line in text.lines() {
        let code = line.split("//").next().unwrap_or("");
        let mut rest = code;
        while let Some(at) = rest.find("crate::") {
            let after = &rest[at + "crate::".len()..];
            let name: String = after
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() {
                rooms.insert(name);
            }
            rest = after;
        }
        // `use crate::{a, b}` names several rooms at once.
        if let Some(at) = code.find("crate::{") {
            let list = &code[at + "crate::{".len()..];
            for part in list.split([',', '}']) {
                let name: String = part
                    .trim()
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                if !name.is_empty() {
                    rooms.insert(name);
                }
            }
        }
    }
    rooms
}

#[test]
fn rooms_import_only_the_rooms_below_them() {
    let src = root().join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut violations = Vec::new();
    let mut checked = 0;
    for file in &files {
        let relative = file.strip_prefix(&src).unwrap();
        let first = relative.components().next().unwrap().as_os_str();
        let room = first.to_str().unwrap().trim_end_matches(".rs").to_string();
        if room == "main" || room == "app" || room == "lib" {
            continue;
        }
        let own = rank(&room).unwrap_or_else(|| {
            panic!("src/{room} is in no room: add it to ROOMS or LEAVES and docs/architecture.md")
        });
        let text = std::fs::read_to_string(file).unwrap();
        for imported in imported_rooms(&text) {
            if imported == room {
                continue;
            }
            let ok = match rank(&imported) {
                Some(0) => true,
                Some(r) => r < own && own != 0,
                None => false,
            };
            if !ok {
                violations.push(format!(
                    "src/{} ({room}) imports {imported}",
                    relative.display()
                ));
            }
        }
        for forbidden in ["clap", "indicatif", "process::exit"] {
            if text.lines().any(|l| {
                let code = l.split("//").next().unwrap_or("");
                code.contains(&format!("use {forbidden}"))
                    || code.contains(&format!("{forbidden}::"))
                    || code.contains(&format!("std::{forbidden}"))
            }) {
                violations.push(format!(
                    "src/{} uses {forbidden}, which is the binary's",
                    relative.display()
                ));
            }
        }
        checked += 1;
    }
    assert!(checked > 40, "only {checked} files were checked");
    assert!(
        violations.is_empty(),
        "arrows against the house's order:\n{}",
        violations.join("\n")
    );
}

#[test]
fn the_checker_sees_an_arrow_back_up() {
    let rooms = imported_rooms(
        "use crate::report::Render;\nuse crate::{model, walk::path};\n// crate::analyze in a comment\n",
    );
    let rooms: Vec<&str> = rooms.iter().map(String::as_str).collect();
    assert_eq!(rooms, ["model", "report", "walk"]);
    assert!(rank("report").unwrap() > rank("explain").unwrap());
}

#[test]
fn only_the_binary_names_its_own_room() {
    let lib = std::fs::read_to_string(root().join("src/lib.rs")).unwrap();
    assert!(
        !lib.contains("mod app"),
        "the library must not compile the binary's room"
    );
}
