fn main() {
    check_change_window::main();
}
