use super::*;

/// (created_by, empty_layer) rows, as an image config's history lists them.
fn map(dockerfile: &str, history: &[(&str, bool)]) -> Vec<Option<usize>> {
    let history: Vec<(Option<&str>, bool)> = history.iter().map(|(c, e)| (Some(*c), *e)).collect();
    map_steps(dockerfile, &history).unwrap()
}

/// dive's test image (`.data/Dockerfile.test-image`), as both fixtures below were built.
const DIVE_TEST_DOCKERFILE: &str = "\
FROM busybox:latest
ADD README.md /somefile.txt
RUN mkdir -p /root/example/really/nested
RUN cp /somefile.txt /root/example/somefile1.txt
RUN chmod 444 /root/example/somefile1.txt
RUN cp /somefile.txt /root/example/somefile2.txt
RUN cp /somefile.txt /root/example/somefile3.txt
RUN mv /root/example/somefile3.txt /root/saved.txt
RUN cp /root/saved.txt /root/.saved.txt
RUN rm -rf /root/example/
ADD .scripts/ /root/.data/
RUN cp /root/saved.txt /tmp/saved.again1.txt
RUN cp /root/saved.txt /root/.data/saved.again2.txt
RUN chmod +x /root/saved.txt
";

#[test]
fn classic_builder_history() {
    // ../shared/images/test-docker-image.tar, config.history.
    let history = [
        ("/bin/sh -c #(nop) ADD file:ce026b62356eec3ad1214f92be2c9dc063fe205bd5e600be3492c4dfb17148bd in / ", false),
        ("/bin/sh -c #(nop)  CMD [\"sh\"]", true),
        ("/bin/sh -c #(nop) ADD file:139c3708fb6261126453e34483abd8bf7b26ed16d952fd976994d68e72d93be2 in /somefile.txt ", false),
        ("/bin/sh -c mkdir -p /root/example/really/nested", false),
        ("/bin/sh -c cp /somefile.txt /root/example/somefile1.txt", false),
        ("/bin/sh -c chmod 444 /root/example/somefile1.txt", false),
        ("/bin/sh -c cp /somefile.txt /root/example/somefile2.txt", false),
        ("/bin/sh -c cp /somefile.txt /root/example/somefile3.txt", false),
        ("/bin/sh -c mv /root/example/somefile3.txt /root/saved.txt", false),
        ("/bin/sh -c cp /root/saved.txt /root/.saved.txt", false),
        ("/bin/sh -c rm -rf /root/example/", false),
        ("/bin/sh -c #(nop) ADD dir:7ec14b81316baa1a31c38c97686a8f030c98cba2035c968412749e33e0c4427e in /root/.data/ ", false),
        ("/bin/sh -c cp /root/saved.txt /tmp/saved.again1.txt", false),
        ("/bin/sh -c cp /root/saved.txt /root/.data/saved.again2.txt", false),
        ("/bin/sh -c chmod +x /root/saved.txt", false),
    ];
    let lines = map(DIVE_TEST_DOCKERFILE, &history);
    let mut want = vec![None, None];
    want.extend((2..=14).map(Some));
    assert_eq!(lines, want);
}

#[test]
fn kaniko_history() {
    // ../shared/images/test-kaniko-image.tar, config.history.
    let history = [
        ("/bin/sh -c #(nop) ADD file:ab8940a9b8a62d2f2c4634bf5e63a87ea73736bd0313412e41be2351c4fbdf53 in / ", false),
        ("/bin/sh -c #(nop)  CMD [\"sh\"]", true),
        ("ADD README.md /somefile.txt", false),
        ("RUN mkdir -p /root/example/really/nested", false),
        ("RUN cp /somefile.txt /root/example/somefile1.txt", false),
        ("RUN chmod 444 /root/example/somefile1.txt", false),
        ("RUN cp /somefile.txt /root/example/somefile2.txt", false),
        ("RUN cp /somefile.txt /root/example/somefile3.txt", false),
        ("RUN mv /root/example/somefile3.txt /root/saved.txt", false),
        ("RUN cp /root/saved.txt /root/.saved.txt", false),
        ("RUN rm -rf /root/example/", false),
        ("ADD .scripts/ /root/.data/", false),
        ("RUN cp /root/saved.txt /tmp/saved.again1.txt", false),
        ("RUN cp /root/saved.txt /root/.data/saved.again2.txt", false),
        ("RUN chmod +x /root/saved.txt", false),
    ];
    let lines = map(DIVE_TEST_DOCKERFILE, &history);
    let mut want = vec![None, None];
    want.extend((2..=14).map(Some));
    assert_eq!(lines, want);
}

#[test]
fn buildah_history_with_run_flags_and_continuations() {
    // sample-images/build-deps-joined: its Containerfile and config.history.
    let containerfile = "\
# build-deps-joined: the fix for build-deps-split.
FROM scratch
ADD rootfs.tar /
ENV MANPATH=/usr/share/man
COPY hello.1.md /usr/src/hello/
# busybox dpkg also removes the emptied /usr/share/doc; it is made again for later packages.
RUN --mount=type=bind,source=debs,target=/debs dpkg -i -F depends /debs/go-md2man_*.deb \\
 && go-md2man -in /usr/src/hello/hello.1.md -out /usr/share/man/man1/hello.1 \\
 && dpkg -P -F depends go-md2man && mkdir -p /usr/share/doc
CMD [\"/bin/sh\"]
";
    let history = [
        ("/bin/sh -c #(nop) ADD file:30a37cef145df7f6490ac08069fc955f16dc06ee7d0a529e475eb6580fc2a48e in / ", false),
        ("/bin/sh -c #(nop) ENV MANPATH=/usr/share/man", true),
        ("/bin/sh -c #(nop) COPY file:8f6d046719b23b8428aa9de21f0598a99f7fa504e2f8ac6d35145dc6e9b82e66 in /usr/src/hello/ ", false),
        ("/bin/sh -c --mount=type=bind,source=debs,target=/debs dpkg -i -F depends /debs/go-md2man_*.deb  && go-md2man -in /usr/src/hello/hello.1.md -out /usr/share/man/man1/hello.1  && dpkg -P -F depends go-md2man && mkdir -p /usr/share/doc", false),
        ("/bin/sh -c #(nop) CMD [\"/bin/sh\"]", true),
    ];
    assert_eq!(
        map(containerfile, &history),
        vec![Some(3), Some(4), Some(5), Some(7), Some(10)]
    );
}

#[test]
fn buildkit_multi_stage_with_args_env_and_workdir() {
    let dockerfile = "\
# syntax=docker/dockerfile:1
ARG GO_VERSION=1.22
FROM golang:${GO_VERSION} AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -o /out/app ./cmd/app

FROM debian:12-slim AS runtime
ARG APP_USER=app
ENV APP_HOME=/srv/app \\
    PATH=/srv/app/bin:$PATH
RUN apt-get update \\
 # only what the app needs
 && apt-get install -y --no-install-recommends ca-certificates \\
\x20
 && rm -rf /var/lib/apt/lists/*
WORKDIR ${APP_HOME}
COPY --from=build --chown=${APP_USER} /out/app ./bin/app
LABEL org.opencontainers.image.title=\"demo app\"
EXPOSE 8080
USER ${APP_USER}
CMD [\"app\", \"--serve\"]
";
    let history = [
        ("# debian.sh --arch 'amd64' out/ 'bookworm' '@1717977600'", false),
        ("CMD [\"bash\"]", true),
        ("ARG APP_USER=app", true),
        // PATH comes from the base image, which the Dockerfile does not show: the
        // recorded value is matched around it (`/srv/app/bin:<PATH>`).
        ("ENV APP_HOME=/srv/app PATH=/srv/app/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", true),
        ("RUN |1 APP_USER=app /bin/sh -c apt-get update  && apt-get install -y --no-install-recommends ca-certificates  && rm -rf /var/lib/apt/lists/* # buildkit", false),
        ("WORKDIR /srv/app", false),
        ("COPY /out/app ./bin/app # buildkit", false),
        ("LABEL org.opencontainers.image.title=demo app", true),
        ("EXPOSE map[8080/tcp:{}]", true),
        ("USER app", true),
        ("CMD [\"app\" \"--serve\"]", true),
    ];
    assert_eq!(
        map(dockerfile, &history),
        vec![
            None,
            None,
            Some(11),
            Some(12),
            Some(14),
            Some(19),
            Some(20),
            Some(21),
            Some(22),
            Some(23),
            Some(24)
        ]
    );
}

#[test]
fn final_stage_built_from_an_earlier_stage_classic() {
    let dockerfile = "\
FROM alpine:3.19 AS base
ARG VERSION=1.0
ENV APP_VERSION=${VERSION}
RUN apk add --no-cache curl

FROM base AS final
ARG VERSION=1.0
COPY app-${VERSION}.tar.gz /opt/
ADD rootfs/ /
RUN [\"sh\", \"-c\", \"echo done\"]
CMD exec /opt/run
";
    let history = [
        ("/bin/sh -c #(nop) ADD file:37a76ec18f9887751cd8473744917d08b7431fc4085097bb6a09d81b41775473 in / ", false),
        ("/bin/sh -c #(nop)  CMD [\"/bin/sh\"]", true),
        ("/bin/sh -c #(nop)  ARG VERSION=1.0", true),
        ("/bin/sh -c #(nop)  ENV APP_VERSION=1.0", true),
        ("|1 VERSION=1.0 /bin/sh -c apk add --no-cache curl", false),
        ("/bin/sh -c #(nop)  ARG VERSION=1.0", true),
        ("/bin/sh -c #(nop) COPY file:0f5f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f in /opt/ ", false),
        ("/bin/sh -c #(nop) ADD dir:9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e1d0c9b8a7f6e5d4c3b2a1f0e9d8c in / ", false),
        ("|1 VERSION=1.0 sh -c echo done", false),
        ("/bin/sh -c #(nop)  CMD [\"/bin/sh\" \"-c\" \"exec /opt/run\"]", true),
    ];
    // The base image's `ADD file:… in /` has the same kind and destination as
    // `ADD rootfs/ /`, but not its place: it stays unmatched.
    assert_eq!(
        map(dockerfile, &history),
        vec![
            None,
            None,
            Some(2),
            Some(3),
            Some(4),
            Some(7),
            Some(8),
            Some(9),
            Some(10),
            Some(11)
        ]
    );
}

#[test]
fn only_the_final_stage_is_matched() {
    let dockerfile = "\
FROM golang:1.22 AS build
RUN go build -o /app .
FROM alpine:3.19
COPY --from=build /app /app
CMD [\"/app\"]
";
    let history = [
        ("/bin/sh -c #(nop) ADD file:aa in / ", false),
        ("/bin/sh -c #(nop)  CMD [\"/bin/sh\"]", true),
        ("COPY /app /app # buildkit", false),
        ("CMD [\"/app\"]", true),
    ];
    assert_eq!(
        map(dockerfile, &history),
        vec![None, None, Some(4), Some(5)]
    );
}

#[test]
fn a_history_from_another_dockerfile_stays_unmatched() {
    let history = [
        ("/bin/sh -c #(nop) ADD file:aa in / ", false),
        ("/bin/sh -c #(nop)  CMD [\"sh\"]", true),
        ("RUN /bin/sh -c make install # buildkit", false),
        ("RUN /bin/sh -c make clean # buildkit", false),
    ];
    let lines = map(DIVE_TEST_DOCKERFILE, &history);
    assert_eq!(lines, vec![None; 4]);
}

#[test]
fn changed_build_arg_leaves_the_step_unmatched_not_mismatched() {
    // Built with --build-arg VERSION=2.0: the recorded text is not what the default
    // gives, and nothing else may take its place.
    let dockerfile = "FROM scratch\nARG VERSION=1.0\nCOPY app-${VERSION}.tar /\nCMD [\"/app\"]\n";
    let history = [
        ("ARG VERSION=2.0", true),
        ("COPY app-2.0.tar / # buildkit", false),
        ("CMD [\"/app\"]", true),
    ];
    assert_eq!(map(dockerfile, &history), vec![None, None, Some(4)]);
}

#[test]
fn identical_steps_in_doubt_stay_unmatched() {
    // The ARG may or may not have left a step, so the first `RUN make` could be either
    // of the two steps before the last one.
    let dockerfile = "FROM base\nRUN make\nARG X\nRUN make\n";
    let history = [
        ("/bin/sh -c make", false),
        ("/bin/sh -c make", false),
        ("/bin/sh -c make", false),
    ];
    assert_eq!(map(dockerfile, &history), vec![None, None, Some(4)]);
    // With the ARG recorded, every step has one place.
    let history = [
        ("/bin/sh -c make", false),
        ("/bin/sh -c #(nop)  ARG X", true),
        ("/bin/sh -c make", false),
    ];
    assert_eq!(map(dockerfile, &history), vec![Some(2), Some(3), Some(4)]);
}

#[test]
fn heredocs_are_skipped_as_instructions_and_matched_as_buildkit_runs_them() {
    let dockerfile = "\
FROM alpine:3.19
RUN <<EOF
apk add curl
FROM scratch
EOF
COPY <<-EOT /etc/motd
\thello
\tEOT
RUN cat <<EOF > /etc/issue
welcome
EOF
CMD [\"sh\"]
";
    let history = [
        ("/bin/sh -c #(nop) ADD file:aa in / ", false),
        ("/bin/sh -c #(nop)  CMD [\"/bin/sh\"]", true),
        (
            "RUN /bin/sh -c apk add curl\nFROM scratch\n # buildkit",
            false,
        ),
        ("COPY <<-EOT /etc/motd # buildkit", false),
        (
            "RUN /bin/sh -c cat <<EOF > /etc/issue\nwelcome\nEOF # buildkit",
            false,
        ),
        ("CMD [\"sh\"]", true),
    ];
    assert_eq!(
        map(dockerfile, &history),
        vec![None, None, Some(2), Some(6), Some(9), Some(12)]
    );
    let parsed = parse(dockerfile).unwrap();
    assert_eq!(parsed.stages.len(), 1);
    assert_eq!(parsed.stages[0].instructions.len(), 4);
    assert_eq!(parsed.stages[0].instructions[1].heredocs[0].body, "hello\n");
}

#[test]
fn escape_directive_and_comments_inside_continuations() {
    let dockerfile = "\
# escape=`
FROM mcr.microsoft.com/windows/servercore:ltsc2022
RUN powershell -Command `
    # a comment inside the continuation
    Write-Host C:\\temp\\x
";
    let history = [
        ("Apply image 10.0.20348.2655", false),
        ("RUN powershell -Command     Write-Host C:\\temp\\x", false),
    ];
    assert_eq!(map(dockerfile, &history), vec![None, Some(3)]);
}

#[test]
fn steps_without_created_by_are_unmatched() {
    let history = [
        (None, false),
        (Some("RUN /bin/sh -c make # buildkit"), false),
    ];
    assert_eq!(
        map_steps("FROM scratch\nRUN make\n", &history).unwrap(),
        vec![None, Some(2)]
    );
    assert_eq!(
        map_steps("FROM scratch\nRUN make\n", &[]).unwrap(),
        Vec::<Option<usize>>::new()
    );
}

#[test]
fn parse_errors_say_where() {
    let err = map_steps("# just a comment\n", &[]).unwrap_err();
    assert_eq!(err.to_string(), "Dockerfile line 1: no FROM instruction");
    let err = map_steps("RUN make\nFROM scratch\n", &[]).unwrap_err();
    assert_eq!(
        (err.line, err.message.as_str()),
        (1, "RUN before the first FROM")
    );
    let err = map_steps("FROM scratch\nRUN <<EOF\necho\n", &[]).unwrap_err();
    assert_eq!(err.line, 2);
    assert!(err.message.contains("not terminated"));
    let err = map_steps("# escape=x\nFROM scratch\n", &[]).unwrap_err();
    assert_eq!(err.line, 1);
    assert!(map_steps("FROM\n", &[])
        .unwrap_err()
        .message
        .contains("no image"));
}

#[test]
fn variables_expand_as_buildkit_does() {
    let vars = Vars {
        env: HashMap::from([
            ("HOME".into(), Some("/root".into())),
            ("EMPTY".into(), Some(String::new())),
        ]),
        args: HashMap::from([("V".into(), Some("1.2".into())), ("HIDDEN".into(), None)]),
        complete: false,
        holes: false,
    };
    let ex = |w: &str| expand(w, &vars, '\\');
    assert_eq!(ex("$HOME/bin").as_deref(), Some("/root/bin"));
    assert_eq!(ex("${HOME}x").as_deref(), Some("/rootx"));
    assert_eq!(ex("app-${V}.tar").as_deref(), Some("app-1.2.tar"));
    assert_eq!(ex("${EMPTY:-def}").as_deref(), Some("def"));
    assert_eq!(ex("${EMPTY-def}").as_deref(), Some(""));
    assert_eq!(ex("${V:+set}").as_deref(), Some("set"));
    assert_eq!(ex("${EMPTY:+set}").as_deref(), Some(""));
    assert_eq!(ex("'$HOME'").as_deref(), Some("$HOME"));
    assert_eq!(ex("\"a b\"").as_deref(), Some("a b"));
    assert_eq!(ex("\\$HOME").as_deref(), Some("$HOME"));
    assert_eq!(ex("cost $ 5").as_deref(), Some("cost $ 5"));
    // Unknown: not in the file (the base image may set it), declared without a value,
    // or syntax this does not follow.
    assert_eq!(ex("$PATH"), None);
    assert_eq!(ex("${HIDDEN}"), None);
    assert_eq!(ex("${NOPE:-x}"), None);
    assert_eq!(ex("${V%.*}"), None);
    assert_eq!(ex("\"open"), None);
    // FROM scratch: nothing else can define a variable, so undefined is empty.
    let complete = Vars {
        env: HashMap::new(),
        args: HashMap::new(),
        complete: true,
        holes: false,
    };
    assert_eq!(
        expand("${NOPE:-x}/$NOPE", &complete, '\\').as_deref(),
        Some("x/")
    );
}

#[test]
fn recorded_forms_are_normalised() {
    let o = observe("/bin/sh -c #(nop)  ENV A=1");
    assert_eq!(o.texts, vec!["ENV A=1"]);
    let o = observe("/bin/sh -c #(nop) COPY multi:0a1b in /app/ ");
    assert_eq!(o.copied_to, Some(("COPY".into(), "/app".into())));
    let o = observe("RUN |2 A=1 B=two words /bin/sh -c make # buildkit");
    assert!(
        o.texts.contains(&"RUN /bin/sh -c make".to_string()),
        "{:?}",
        o.texts
    );
    // A classic exec-form `RUN ["env"]` is recorded as `env`; it is not an ENV.
    let o = observe("env A=1");
    assert_eq!(o.texts, vec!["RUN env A=1"]);
    assert_eq!(
        go_quoted(&["a\"b".into(), "c\\d".into()]),
        r#"["a\"b" "c\\d"]"#
    );
    assert_eq!(join_clean("/srv/app", "../lib/./x/"), "/srv/lib/x");
}

#[test]
fn odd_input_does_not_panic() {
    let odd = [
        "FROM scratch\nRUN \\",
        "FROM scratch\nENV\nLABEL =\nARG =x\nEXPOSE 80-90 $\nWORKDIR\nCMD [\nSHELL [\"a\"\nCOPY\nADD --x\n",
        "FROM scratch\nRUN <<'EOF\nx\n",
        "FROM scratch\nRUN <<\"\"\nRUN <<-\n",
        "FROM a AS b\nFROM b AS a\nFROM a\nRUN ${\nRUN ${}\nRUN $${A:-${B}}\nENV A=\"é${\"\n",
        "\u{feff}FROM scratch\r\nRUN échelle \\\r\n  x\r\n",
        "# escape=`\nFROM scratch\nRUN a `",
    ];
    let history = [
        (Some("|x"), false),
        (Some("|99 a"), false),
        (Some("/bin/sh -c #(nop)"), true),
        (Some("COPY file: in"), false),
        (Some(""), false),
        (None, true),
    ];
    for text in odd {
        let _ = map_steps(text, &history);
    }
}

#[test]
fn byte_order_mark_is_not_part_of_the_first_instruction() {
    let history = [(Some("RUN /bin/sh -c make # buildkit"), false)];
    assert_eq!(
        map_steps("\u{feff}FROM scratch\nRUN make\n", &history).unwrap(),
        vec![Some(2)]
    );
}

/// The two forms issue 14 found unmatched, in a Dockerfile built on a base image that
/// sets PATH and APP_HOME (tests/fixtures/dockerfile-forms/, built for real).
const FORMS_DOCKERFILE: &str = "\
FROM layerwaste-fixture/env-base
SHELL [\"/bin/bash\", \"-o\", \"pipefail\", \"-c\"]
USER root
COPY --chown=0:0 hello.txt /opt/app/bin/hello
ENV PATH=/opt/app/bin:$PATH MODE=prod
ENV DATA=${APP_HOME}/data \\
    GREETING=\"hello world\"
LABEL org.example.path=$PATH
WORKDIR $APP_HOME
USER nobody
CMD [\"hello\"]
";

const FORMS_BASE: [(&str, bool); 2] = [
    ("/bin/sh -c #(nop) COPY file:8affa0a4b7ba67ff0319bf5d489f7a70212a5819572e26ccb445cd09926357a1 in /etc/base.txt ", false),
    ("/bin/sh -c #(nop)  ENV PATH=/usr/local/bin:/usr/bin:/bin APP_HOME=/srv", true),
];

const FORMS_LINES: [Option<usize>; 11] = [
    None,
    None,
    Some(2),
    Some(3),
    Some(4),
    Some(5),
    Some(6),
    Some(8),
    Some(9),
    Some(10),
    Some(11),
];

#[test]
fn classic_history_after_shell_and_with_expanded_env() {
    // `docker build` with DOCKER_BUILDKIT=0 (Docker 20.10), config.history.
    let mut history = FORMS_BASE.to_vec();
    history.extend([
        ("/bin/bash -o pipefail -c #(nop)  SHELL [/bin/bash -o pipefail -c]", true),
        ("/bin/bash -o pipefail -c #(nop)  USER root", true),
        ("/bin/bash -o pipefail -c #(nop) COPY --chown=0:0file:d5e01f9ded2658899111c5b8ae11cf0c8ac54b51891d464eb806b666842816ac in /opt/app/bin/hello ", false),
        ("/bin/bash -o pipefail -c #(nop)  ENV PATH=/opt/app/bin:/usr/local/bin:/usr/bin:/bin MODE=prod", true),
        ("/bin/bash -o pipefail -c #(nop)  ENV DATA=/srv/data GREETING=hello world", true),
        ("/bin/bash -o pipefail -c #(nop)  LABEL org.example.path=/opt/app/bin:/usr/local/bin:/usr/bin:/bin", true),
        ("/bin/bash -o pipefail -c #(nop) WORKDIR /srv", true),
        ("/bin/bash -o pipefail -c #(nop)  USER nobody", true),
        ("/bin/bash -o pipefail -c #(nop)  CMD [\"hello\"]", true),
    ]);
    assert_eq!(map(FORMS_DOCKERFILE, &history), FORMS_LINES);
}

#[test]
fn buildkit_history_with_expanded_env() {
    let mut history = FORMS_BASE.to_vec();
    history.extend([
        ("SHELL [/bin/bash -o pipefail -c]", true),
        ("USER root", true),
        ("COPY hello.txt /opt/app/bin/hello # buildkit", false),
        (
            "ENV PATH=/opt/app/bin:/usr/local/bin:/usr/bin:/bin MODE=prod",
            true,
        ),
        ("ENV DATA=/srv/data GREETING=hello world", true),
        (
            "LABEL org.example.path=/opt/app/bin:/usr/local/bin:/usr/bin:/bin",
            true,
        ),
        ("WORKDIR /srv", true),
        ("USER nobody", true),
        ("CMD [\"hello\"]", true),
    ]);
    assert_eq!(map(FORMS_DOCKERFILE, &history), FORMS_LINES);
}

#[test]
fn a_record_under_another_shell_or_with_other_text_stays_unmatched() {
    let dockerfile = "FROM base\nENV PATH=/opt/app/bin:$PATH MODE=prod\nUSER nobody\n";
    // The shell prefix must be the one in effect: no SHELL here, so a `/bin/bash`
    // record is not this file's.
    assert_eq!(
        map(
            dockerfile,
            &[
                (
                    "/bin/sh -c #(nop)  ENV PATH=/opt/app/bin:/bin MODE=prod",
                    true
                ),
                ("/bin/bash -o pipefail -c #(nop)  USER nobody", true),
            ]
        ),
        [Some(2), None]
    );
    // The literal parts around the hole must be there, and a hole is one word: it
    // cannot swallow another variable.
    for recorded in [
        "ENV PATH=/usr/bin MODE=prod",
        "ENV PATH=/opt/app/bin:/bin MODE=dev",
        "ENV PATH=/opt/app/bin:/bin X=1 MODE=prod",
        "ENV PATH=/opt/app/bin:/bin",
    ] {
        assert_eq!(
            map(dockerfile, &[(recorded, true), ("USER nobody", true)]),
            [None, Some(3)],
            "{recorded}"
        );
    }
    // An unset variable is recorded as nothing by the classic builder.
    assert_eq!(
        map(
            "FROM base\nENV HOME_DIR=$HOME\n",
            &[("/bin/sh -c #(nop)  ENV HOME_DIR=", true)]
        ),
        [Some(2)]
    );
    // `${VAR:-default}` of an unknown VAR could be either: still unknown.
    assert_eq!(
        map("FROM base\nENV A=${B:-x}\n", &[("ENV A=x", true)]),
        [None]
    );
}

#[test]
fn holes_match_one_word() {
    let h = HOLE;
    assert!(hole_match(
        &format!("ENV P=/a:{h} M=1"),
        "ENV P=/a:/b:/c M=1"
    ));
    assert!(hole_match(&format!("ENV P=/a:{h} M=1"), "ENV P=/a: M=1"));
    assert!(!hole_match(
        &format!("ENV P=/a:{h} M=1"),
        "ENV P=/a:/b Q=2 M=1"
    ));
    assert!(hole_match(&format!("WORKDIR {h}/x{h}"), "WORKDIR /srv/x/y"));
    assert!(!hole_match(&format!("WORKDIR {h}"), "WORKDIR /a b"));
    assert!(hole_match("USER x", "USER x"));
    assert!(!hole_match(&format!("USER {h}"), "USERS"));
}

#[test]
fn classic_copy_with_flags_glued_to_the_source() {
    assert_eq!(
        content_hash_source("--chown=0:0file:d5e01f9ded26"),
        Some("file:d5e01f9ded26")
    );
    assert_eq!(content_hash_source("--chown=0:0"), None);
    assert_eq!(content_hash_source("xfile:d5e0"), None);
}
/// A million history steps (a base image's, then the Dockerfile's two): the alignment
/// looks only at the last steps, so this is linear, and the mapping is the same as for
/// the two steps alone.
#[test]
fn a_million_step_history_maps_in_linear_memory() {
    let mut history = vec![(Some("/bin/sh -c #(nop)  ENV BASE=1"), true); 1_000_000];
    history.push((Some("RUN /bin/sh -c make # buildkit"), false));
    history.push((Some("CMD [\"/app\"]"), true));
    let lines = map_steps("FROM base\nRUN make\nCMD [\"/app\"]\n", &history).unwrap();
    assert_eq!(lines.len(), 1_000_002);
    assert_eq!(lines[1_000_000..], [Some(2), Some(3)]);
    assert!(lines[..1_000_000].iter().all(Option::is_none));
}

#[test]
fn too_many_instructions_is_an_error_that_names_the_line() {
    let mut text = String::from("FROM scratch\n");
    for i in 0..=MAX_INSTRUCTIONS {
        text.push_str(&format!("RUN step {i}\n"));
    }
    let err = map_steps(&text, &[(Some("RUN step 0"), false)]).unwrap_err();
    assert_eq!(err.line, MAX_INSTRUCTIONS + 2);
    assert!(
        err.message.contains("more than 2048 instructions"),
        "{}",
        err.message
    );
}

#[test]
fn only_an_instruction_keyword_follows_the_shell_and_nop() {
    // A RUN whose command has `#(nop)` in it is a RUN, not what follows the comment.
    let dockerfile = "FROM base\nSHELL [\"/bin/bash\", \"-c\"]\nRUN echo x #(nop) y\n";
    assert_eq!(
        map(
            dockerfile,
            &[
                ("/bin/bash -c #(nop)  SHELL [/bin/bash -c]", true),
                ("/bin/bash -c echo x #(nop) y", false),
            ]
        ),
        [Some(2), Some(3)]
    );
    // `#(nop) echo y` under the shell is not read as an instruction at all.
    assert_eq!(
        map(
            "FROM base\nSHELL [\"/bin/bash\", \"-c\"]\nRUN y\n",
            &[
                ("/bin/bash -c #(nop)  SHELL [/bin/bash -c]", true),
                ("/bin/bash -c #(nop) y", false),
            ]
        ),
        [Some(2), None]
    );
}

#[test]
fn from_scratch_is_followed_through_named_stages() {
    assert!(builds_from_scratch("FROM scratch\nADD rootfs.tar /\n"));
    assert!(builds_from_scratch(
        "FROM scratch AS base\nADD r.tar /\nFROM alpine AS other\nFROM base\nRUN true\n"
    ));
    assert!(!builds_from_scratch("FROM debian:12\nRUN true\n"));
    assert!(!builds_from_scratch(
        "FROM scratch AS b\nFROM python:3 AS b2\nFROM b2\n"
    ));
    assert!(!builds_from_scratch("not a dockerfile"));
}
