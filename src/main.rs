//! The `waymark` binary: parses the command line and hands over to the library.
#![forbid(unsafe_code)]

fn main() {
    std::process::exit(waymark::main_with_args(std::env::args_os()));
}
