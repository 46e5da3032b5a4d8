fn main() -> std::process::ExitCode {
    check_tls_ciphers::policy_cli::main()
}
