//! The `waymark` binary: parses the command line, starts the runtime and logging, and
//! hands over to the library (which does neither).
#![forbid(unsafe_code)]

fn main() {
    let cli = match waymark::cli::parse(std::env::args_os()) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            std::process::exit(if e.use_stderr() { 2 } else { 0 });
        }
    };
    if !cli.serves() {
        // A closed stdout (`waymark history | head`) ends the process as it does any
        // Unix tool, instead of a panic in println!.
        sigpipe::reset();
    }
    // `serve` logs its requests at info; other commands log only what RUST_LOG asks.
    let default = if cli.serves() {
        "info,tower_http=info"
    } else {
        "off"
    };
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default)),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("waymark: cannot start the runtime: {e}");
            std::process::exit(4);
        }
    };
    std::process::exit(runtime.block_on(waymark::cli::run(cli)));
}
