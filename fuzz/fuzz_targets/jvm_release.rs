#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| bulwark_fuzz::run("jvm_release", data));
