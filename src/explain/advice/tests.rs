use super::*;
use crate::explain::Changes;

fn facts(place: Place, how: How, changes: Changes) -> Facts {
    Facts {
        place,
        how,
        changes,
    }
}

const NONE: Changes = Changes {
    mode: false,
    owner: false,
    mtime: false,
};
const MODE: Changes = Changes {
    mode: true,
    owner: false,
    mtime: false,
};
const MTIME: Changes = Changes {
    mode: false,
    owner: false,
    mtime: true,
};

fn name(f: Facts, adder: &str, hider: &str) -> &'static str {
    Pattern::name(&f, &Commands::of(adder), &Commands::of(hider), false).id()
}

#[test]
fn reads_what_an_instruction_runs() {
    let c = Commands::of("RUN apt-get update && apt-get install -y --no-install-recommends gcc");
    assert!(c.run && c.package_install && !c.package_upgrade);
    let c = Commands::of("RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get upgrade -y");
    assert!(c.package_upgrade);
    assert!(Commands::of("RUN sudo /sbin/apk del .build-deps").package_remove);
    assert!(Commands::of("RUN dpkg -P -F depends make").package_remove);
    assert!(
        Commands::of("RUN --mount=type=bind,source=d,target=/d dpkg -i /d/x.deb").package_install
    );
    assert!(Commands::of("RUN pip install --upgrade pip").language_upgrade);
    assert!(Commands::of("RUN python3 -m pip install -U setuptools").language_upgrade);
    assert!(Commands::of("RUN npm install -g npm@10").language_upgrade);
    let c = Commands::of("RUN pip install -r requirements.txt");
    assert!(c.language_install && !c.language_upgrade);
    assert!(Commands::of("RUN cd /opt; mv x-1.0 x").mv);
    assert!(Commands::of("RUN chmod -R 755 /app").chmod);
    assert!(
        Commands::of("chown -R app /app").chown,
        "a classic builder's bare RUN"
    );
    assert!(Commands::of("COPY --from=builder /usr/local/lib/ /usr/local/lib/").copy_from);
    let c = Commands::of("COPY app/ /app/");
    assert!(c.copy && !c.copy_from && !c.run);
    assert!(Commands::of("ADD https://x/tool /usr/local/bin/tool").add);
    assert_eq!(Commands::of("ENV A=1"), Commands::default());
    assert!(Commands::of("RUN find /app -type f -exec chmod 644 {} +").chmod);
    assert!(Commands::of("RUN dpkg -l | awk '{print $2}' | xargs apt-get purge -y").package_remove);
    assert!(
        Commands::of("RUN apt-get -o Dpkg::Options::=--force-confold install -y x").package_install
    );
    assert!(Commands::of(r#"RUN ["apt-get", "purge", "-y", "gcc"]"#).package_remove);
    assert!(Commands::of("RUN yarn && yarn build").language_install);
    // Build args and a SHELL in front of the command line.
    assert!(
        Commands::of("RUN |1 DEBIAN_FRONTEND=noninteractive /bin/sh -c apt-get purge -y gcc")
            .package_remove
    );
    assert!(Commands::of("RUN /bin/bash -o pipefail -c apt-get purge -y gcc").package_remove);
    assert_eq!(
        short_instruction("RUN |1 DEBIAN_FRONTEND=noninteractive /bin/sh -c apt-get purge -y gcc"),
        "RUN apt-get purge -y gcc"
    );
}

#[test]
fn the_pattern_comes_from_both_steps_and_the_content() {
    let removed = facts(Place::Plain, How::Removed, NONE);
    assert_eq!(
        name(removed, "RUN apk add --virtual .b gcc", "RUN apk del .b"),
        "build-deps"
    );
    assert_eq!(
        name(removed, "RUN make", "RUN rm -rf /src"),
        "added-then-deleted"
    );
    let archive = facts(Place::Archive, How::Removed, NONE);
    assert_eq!(
        name(
            archive,
            "RUN wget https://x/a.tar.gz",
            "RUN tar -xzf a.tar.gz && rm a.tar.gz"
        ),
        "download-removed"
    );
    let moved = facts(Place::Plain, How::Moved, NONE);
    assert_eq!(name(moved, "RUN tar -xf x.tar", "RUN mv x-1.0 x"), "moved");
    // An upgrade that re-adds identical files under a new versioned path.
    let moved_packages = facts(Place::LanguagePackages, How::Moved, NONE);
    assert_eq!(
        name(moved_packages, "RUN pnpm install", "RUN pnpm install"),
        "language-package-upgrade"
    );
    assert_eq!(
        name(
            moved,
            "RUN apt-get install -y jdk",
            "RUN apt-get install -y jdk-2"
        ),
        "added-then-deleted"
    );
    let chmod = facts(Place::Plain, How::Rewritten, MODE);
    assert_eq!(
        name(chmod, "COPY app/ /app/", "RUN chmod -R 755 /app"),
        "chmod-copy"
    );
    assert_eq!(
        name(
            chmod,
            "ADD tool /usr/local/bin/tool",
            "RUN chmod +x /usr/local/bin/tool"
        ),
        "add-then-chmod"
    );
    let nothing = facts(Place::Plain, How::Rewritten, NONE);
    assert_eq!(
        name(nothing, "COPY app/ /app/", "RUN chown -R root:root /app"),
        "no-op-rewrite"
    );
    assert_eq!(
        name(
            facts(Place::Plain, How::Rewritten, MTIME),
            "COPY a /a",
            "RUN touch /a"
        ),
        "metadata-only"
    );
    // An upgrade that rewrote base files with the same content is not a chmod.
    assert_eq!(
        name(chmod, "ADD rootfs.tar /", "RUN apt-get upgrade -y"),
        "package-upgrade"
    );
    assert_eq!(
        name(
            facts(Place::Plain, How::Overwritten, NONE),
            "RUN dpkg -i p_1.deb",
            "RUN dpkg -i p_2.deb"
        ),
        "package-upgrade"
    );
    let pip = facts(Place::LanguagePackages, How::Removed, NONE);
    assert_eq!(
        name(pip, "RUN install python", "RUN pip install --upgrade pip"),
        "language-package-upgrade"
    );
    assert_eq!(
        name(
            nothing,
            "ADD rootfs.tar /",
            "COPY --from=builder /usr/local/lib/ /usr/local/lib/"
        ),
        "multi-stage-copy"
    );
    assert_eq!(
        name(
            facts(Place::Plain, How::Overwritten, NONE),
            "COPY a /etc/app.conf",
            "COPY b /etc/app.conf"
        ),
        "overwritten"
    );
    let lists = facts(Place::Cache(PathKind::AptLists), How::Removed, NONE);
    assert_eq!(
        name(
            lists,
            "RUN apt-get update",
            "RUN rm -rf /var/lib/apt/lists/*"
        ),
        "package-cache"
    );
    let db = facts(Place::PackageDatabase, How::Overwritten, NONE);
    assert_eq!(
        name(db, "RUN dpkg -i a.deb", "RUN dpkg -i b.deb"),
        "package-database-churn"
    );
    // Within one step nothing is moved, upgraded or chmodded by a later step.
    assert_eq!(
        Pattern::name(&moved, &Commands::default(), &Commands::default(), true),
        Pattern::AddedThenDeleted
    );
    assert_eq!(
        Pattern::name(&chmod, &Commands::default(), &Commands::default(), true),
        Pattern::Overwritten
    );
}

fn step(i: usize, instruction: &str) -> StepRef {
    StepRef {
        step: i,
        instruction: Some(short_instruction(instruction)),
        dockerfile_line: None,
        base: false,
    }
}

#[test]
fn the_fix_is_aimed_at_a_step_the_team_owns() {
    let pip = facts(Place::LanguagePackages, How::Removed, NONE);
    let base = step(1, "RUN set -eux; install python");
    let team = step(8, "RUN pip install --upgrade pip");
    let crossing = fix(
        Pattern::LanguagePackageUpgrade,
        &pip,
        Owner::Crossing,
        &base,
        &team,
    );
    let text = crossing.plain();
    assert!(
        text.starts_with("step 8 `RUN pip install --upgrade pip`"),
        "{text}"
    );
    assert!(
        !text.contains("step 1"),
        "no fix aimed at the base's step: {text}"
    );
    assert!(text.contains("base image"), "{text}");
    let inherited = fix(
        Pattern::PackageDatabaseChurn,
        &pip,
        Owner::Base,
        &base,
        &base,
    )
    .plain();
    assert!(!inherited.contains("step"), "{inherited}");
    assert!(inherited.contains("base image"), "{inherited}");
    assert_eq!(Owner::of(1, 8, Some(5)), Owner::Crossing);
    assert_eq!(Owner::of(1, 3, Some(5)), Owner::Base);
    assert_eq!(Owner::of(6, 8, Some(5)), Owner::Team);
    assert_eq!(Owner::of(6, 8, None), Owner::Unknown);
}

#[test]
fn every_pattern_has_a_fix_with_its_keyword_and_both_steps() {
    let a = step(3, "COPY app/ /app/");
    let b = step(5, "RUN chmod -R 755 /app");
    let keyword = |p: Pattern| match p {
        Pattern::BuildDeps | Pattern::DownloadRemoved | Pattern::AddedThenDeleted => "one RUN",
        Pattern::Moved => "final path",
        Pattern::ChmodCopy => "--chmod",
        Pattern::AddThenChmod => "ADD --chmod",
        Pattern::NoOpRewrite => "Drop",
        Pattern::MetadataOnly => "--chmod",
        Pattern::PackageUpgrade => "newer base",
        Pattern::LanguagePackageUpgrade => "base image",
        Pattern::MultiStageCopy => "only what",
        Pattern::Overwritten => "once",
        Pattern::PackageCache => "lists",
        Pattern::PackageDatabaseChurn => "fewer",
    };
    for p in Pattern::ALL {
        let place = if p == Pattern::PackageCache {
            Place::Cache(PathKind::AptLists)
        } else {
            Place::Plain
        };
        let f = facts(place, How::Removed, MODE);
        let text = fix(p, &f, Owner::Team, &a, &b).plain();
        assert!(text.contains(keyword(p)), "{p}: {text}");
        let names_a_step = text.contains("step 3") || text.contains("step 5");
        assert!(
            names_a_step || p == Pattern::PackageDatabaseChurn,
            "{p}: {text}"
        );
        assert!(!words(p, &f, false).is_empty());
        assert!(!p.help().is_empty() && !p.summary().is_empty());
    }
    let ids: std::collections::HashSet<&str> = Pattern::ALL.iter().map(|p| p.id()).collect();
    assert_eq!(ids.len(), Pattern::ALL.len());
    assert_eq!(Pattern::AddThenChmod.rule_name(), "AddThenChmod");
    assert_eq!(
        serde_json::to_value(Pattern::NoOpRewrite).unwrap(),
        "no-op-rewrite"
    );
}

#[test]
fn short_instructions_drop_flags_and_fit() {
    assert_eq!(
        short_instruction("RUN --mount=type=cache,target=/root/.cache pip install x"),
        "RUN pip install x"
    );
    assert_eq!(
        short_instruction("COPY --from=builder /a /b"),
        "COPY --from=builder /a /b"
    );
    assert_eq!(
        short_instruction("RUN apt-get install -y --no-install-recommends gcc make")
            .chars()
            .count(),
        SHORT_INSTRUCTION
    );
}
