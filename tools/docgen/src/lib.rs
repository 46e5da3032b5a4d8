//! nightwatch-docgen: the man pages and shell completions of every binary
//! the suite installs, generated from each binary's own clap definition so
//! they can never disagree with `--help`.
//!
//! `scripts/install` runs the binary and copies what it writes:
//!
//! ```text
//! <out>/man/man1/check-graphite.1
//! <out>/completions/bash/check-graphite
//! <out>/completions/zsh/_check-graphite
//! <out>/completions/fish/check-graphite.fish
//! ```
//!
//! A binary joins by adding one [`Binary`] to [`binaries`]: this tool, not
//! the shared libraries, is what knows every binary of the suite. It is a
//! build tool under `tools/`, never installed itself.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use clap::CommandFactory;
use clap_complete::Shell;

/// One installed binary and where its documentation goes.
#[derive(Debug, Clone, Copy)]
pub struct Binary {
    /// The command name (the file installed).
    pub name: &'static str,
    /// Man page section: 1 for commands (the plugins), 8 for daemons.
    pub section: &'static str,
    /// What its exit status means.
    pub exit: Exit,
    /// Its clap definition.
    pub command: fn() -> clap::Command,
}

/// The exit-status convention a binary follows, for its man page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// A monitoring plugin: the Nagios contract, 0-3.
    Plugin,
    /// A command-line tool: 0 done, 2 bad arguments or input.
    Tool,
    /// A daemon: 0 stopped cleanly, 1 an error, 2 bad arguments.
    Daemon,
}

/// Every binary the suite installs.
#[must_use]
pub fn binaries() -> Vec<Binary> {
    vec![
        Binary {
            name: "check-graphite",
            section: "1",
            exit: Exit::Plugin,
            command: check_graphite::Args::command,
        },
        Binary {
            name: "check-audit-freshness",
            section: "1",
            exit: Exit::Plugin,
            command: check_audit_freshness::Args::command,
        },
        Binary {
            name: "check-tls-ciphers",
            section: "1",
            exit: Exit::Plugin,
            command: check_tls_ciphers::Args::command,
        },
        Binary {
            name: "check-change-window",
            section: "1",
            exit: Exit::Plugin,
            command: check_change_window::command,
        },
        Binary {
            name: "check-cloudtrail-es",
            section: "1",
            exit: Exit::Plugin,
            command: check_cloudtrail_es::Args::command,
        },
        Binary {
            name: "tls-policy",
            section: "1",
            exit: Exit::Tool,
            command: check_tls_ciphers::policy_cli::Cli::command,
        },
        Binary {
            name: "pi-probe-exporter",
            section: "8",
            exit: Exit::Daemon,
            command: pi_probe_exporter::cli::Cli::command,
        },
    ]
}

/// The shells completions are written for, and the directory and file name
/// each one's loader looks for (bash-completion loads `<name>`, zsh
/// `_<name>` from its fpath, fish `<name>.fish`).
pub const SHELLS: [(Shell, &str); 3] = [
    (Shell::Bash, "bash"),
    (Shell::Zsh, "zsh"),
    (Shell::Fish, "fish"),
];

/// The completion file's name for `shell`.
#[must_use]
pub fn completion_file_name(shell: Shell, name: &str) -> String {
    match shell {
        Shell::Zsh => format!("_{name}"),
        Shell::Fish => format!("{name}.fish"),
        _ => name.to_owned(),
    }
}

/// Writes every page and completion under `out`; returns the files written.
pub fn generate_all(out: &Path) -> io::Result<Vec<PathBuf>> {
    let mut written = Vec::new();
    for binary in binaries() {
        written.extend(man_pages(&binary, out)?);
        written.extend(completions(&binary, out)?);
    }
    Ok(written)
}

/// The man page of `binary` and one per visible subcommand
/// (`<name>-<subcommand>.<section>`), under `<out>/man/man<section>/`.
pub fn man_pages(binary: &Binary, out: &Path) -> io::Result<Vec<PathBuf>> {
    let dir = out.join("man").join(format!("man{}", binary.section));
    fs::create_dir_all(&dir)?;
    let mut cmd = (binary.command)()
        .name(binary.name)
        .bin_name(binary.name)
        .disable_help_subcommand(true);
    cmd.build();
    let mut written = Vec::new();
    write_pages(&cmd, binary, &dir, &mut written)?;
    Ok(written)
}

fn write_pages(
    cmd: &clap::Command,
    binary: &Binary,
    dir: &Path,
    written: &mut Vec<PathBuf>,
) -> io::Result<()> {
    let man = clap_mangen::Man::new(cmd.clone())
        .section(binary.section)
        .source(format!("nightwatch {}", env!("CARGO_PKG_VERSION")))
        .manual("nightwatch");
    // clap_mangen's `render` has no EXIT STATUS, the section a Nagios admin
    // reads first; the page is rendered section by section to put it in.
    let mut page = Vec::new();
    man.render_title(&mut page)?;
    man.render_name_section(&mut page)?;
    man.render_synopsis_section(&mut page)?;
    man.render_description_section(&mut page)?;
    if cmd.get_arguments().any(|a| !a.is_hide_set()) {
        man.render_options_section(&mut page)?;
    }
    if cmd.has_subcommands() {
        man.render_subcommands_section(&mut page)?;
    }
    if cmd.get_after_long_help().or(cmd.get_after_help()).is_some() {
        man.render_extra_section(&mut page)?;
    }
    page.extend_from_slice(exit_status(binary.exit).as_bytes());
    if cmd.get_version().or(cmd.get_long_version()).is_some() {
        man.render_version_section(&mut page)?;
    }
    if cmd.get_author().is_some() {
        man.render_authors_section(&mut page)?;
    }
    let path = dir.join(man.get_filename());
    fs::write(&path, page)?;
    written.push(path);
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        write_pages(sub, binary, dir, written)?;
    }
    Ok(())
}

/// The EXIT STATUS section in roff: the Nagios plugin contract for the
/// plugins, done or not for a tool (tls-policy), success or failure for
/// the daemon.
fn exit_status(exit: Exit) -> &'static str {
    if exit == Exit::Tool {
        return ".SH \"EXIT STATUS\"\n\
         .TP\n0\nDone: the output is complete.\n\
         .TP\n2\nNothing was done, with one line on stderr saying why: bad arguments, a policy \
         file that cannot be read or contradicts itself, an unknown suite name, or a render refused \
         because the target would fall back to defaults wider than the policy.\n";
    }
    if exit == Exit::Daemon {
        ".SH \"EXIT STATUS\"\n\
         .TP\n0\nStopped cleanly (SIGTERM, SIGINT), or the subcommand succeeded.\n\
         .TP\n1\nAn error, written to the journal or stderr: a bad configuration, a spool \
         that cannot be written, a port in use.\n\
         .TP\n2\nBad command-line arguments.\n"
    } else {
        ".SH \"EXIT STATUS\"\n\
         The Nagios plugin contract: the first line of output says the same state.\n\
         .TP\n0\nOK.\n\
         .TP\n1\nWARNING.\n\
         .TP\n2\nCRITICAL.\n\
         .TP\n3\nUNKNOWN: nothing could be judged. Bad arguments (a mistyped URL, a missing \
         option), \\-\\-help and \\-\\-version, and a bug are always UNKNOWN; a data source \
         that cannot be reached is UNKNOWN (a server under test CRITICAL) unless \\-\\-unreachable\\-state says otherwise, \
         and a timeout unless \\-\\-timeout\\-state does.\n"
    }
}

/// Completions of `binary` for every shell in [`SHELLS`], under
/// `<out>/completions/<shell>/`.
pub fn completions(binary: &Binary, out: &Path) -> io::Result<Vec<PathBuf>> {
    let mut written = Vec::new();
    for (shell, dir_name) in SHELLS {
        let dir = out.join("completions").join(dir_name);
        fs::create_dir_all(&dir)?;
        let mut cmd = (binary.command)();
        let mut text = Vec::new();
        clap_complete::generate(shell, &mut cmd, binary.name, &mut text);
        let path = dir.join(completion_file_name(shell, binary.name));
        fs::write(&path, text)?;
        written.push(path);
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_binary_gets_a_page_and_three_completions() {
        let dir = tempfile::tempdir().unwrap();
        let written = generate_all(dir.path()).unwrap();
        for binary in binaries() {
            let page = dir.path().join(format!(
                "man/man{}/{}.{}",
                binary.section, binary.name, binary.section
            ));
            let text = fs::read_to_string(&page).unwrap();
            assert!(text.starts_with(".ie \\n(.g .ds Aq"), "not roff: {page:?}");
            assert!(text.contains(&format!(".TH {}", binary.name)), "{text}");
            assert!(text.contains(".SH \"EXIT STATUS\""), "{text}");
            assert!(text.contains(".SH OPTIONS"), "{text}");
            if binary.exit == Exit::Plugin {
                assert!(text.contains("CRITICAL"), "{text}");
            }
            assert!(written.contains(&page));
            let bash =
                fs::read_to_string(dir.path().join("completions/bash").join(binary.name)).unwrap();
            assert!(
                bash.contains(&format!("complete -F _{}", binary.name.replace('-', "__"))),
                "{bash}"
            );
        }
    }

    fn daemon() -> clap::Command {
        clap::Command::new("ignored")
            .about("A daemon")
            .subcommand(
                clap::Command::new("simulate")
                    .about("Pretend")
                    .subcommand(clap::Command::new("set").about("Set one")),
            )
            .subcommand(clap::Command::new("secret").hide(true))
    }

    #[test]
    fn subcommands_get_their_own_pages_under_the_binarys_name() {
        let dir = tempfile::tempdir().unwrap();
        let binary = Binary {
            name: "some-daemon",
            section: "8",
            exit: Exit::Daemon,
            command: daemon,
        };
        let mut names: Vec<String> = man_pages(&binary, dir.path())
            .unwrap()
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(
            names,
            [
                "some-daemon-simulate-set.8",
                "some-daemon-simulate.8",
                "some-daemon.8"
            ]
        );
        let sub = fs::read_to_string(dir.path().join("man/man8/some-daemon-simulate.8")).unwrap();
        assert!(sub.contains(".TH some-daemon-simulate 8"), "{sub}");
    }

    #[test]
    fn tls_policy_is_documented_as_a_tool_with_a_page_per_subcommand() {
        let dir = tempfile::tempdir().unwrap();
        let binary = binaries()
            .into_iter()
            .find(|b| b.name == "tls-policy")
            .unwrap();
        man_pages(&binary, dir.path()).unwrap();
        let page = fs::read_to_string(dir.path().join("man/man1/tls-policy.1")).unwrap();
        assert!(page.contains("Nothing was done"), "{page}");
        assert!(!page.contains("WARNING"), "{page}");
        let render = fs::read_to_string(dir.path().join("man/man1/tls-policy-render.1")).unwrap();
        assert!(render.contains("\\-\\-for"), "{render}");
        assert!(dir.path().join("man/man1/tls-policy-diff.1").exists());
    }

    #[test]
    fn the_check_graphite_page_documents_every_flag() {
        let dir = tempfile::tempdir().unwrap();
        let binary = binaries()
            .into_iter()
            .find(|b| b.name == "check-graphite")
            .unwrap();
        man_pages(&binary, dir.path()).unwrap();
        let page = fs::read_to_string(dir.path().join("man/man1/check-graphite.1")).unwrap();
        for flag in [
            "url",
            "target",
            "max\\-age",
            "valid",
            "password\\-file",
            "timeout",
        ] {
            assert!(
                page.contains(&format!("\\-\\-{flag}")),
                "--{flag} missing:\n{page}"
            );
        }
    }
}
