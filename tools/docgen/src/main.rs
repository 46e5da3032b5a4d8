//! `nightwatch-docgen OUT_DIR`: writes the man pages and completions of
//! every nightwatch binary under `OUT_DIR` (see the library docs for the
//! layout); `--list` prints the binaries and their man sections.

use std::path::PathBuf;
use std::process::ExitCode;

const USAGE: &str = "usage: nightwatch-docgen OUT_DIR | --list";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.as_slice() {
        [flag] if flag == "--list" => {
            for binary in nightwatch_docgen::binaries() {
                println!("{} {}", binary.name, binary.section);
            }
            ExitCode::SUCCESS
        }
        [flag] if flag == "-h" || flag == "--help" => {
            println!("{USAGE}");
            ExitCode::SUCCESS
        }
        [out] if !out.starts_with('-') => {
            match nightwatch_docgen::generate_all(&PathBuf::from(out)) {
                Ok(written) => {
                    for path in written {
                        println!("{}", path.display());
                    }
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("nightwatch-docgen: {out}: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        _ => {
            eprintln!("{USAGE}");
            ExitCode::from(2)
        }
    }
}
