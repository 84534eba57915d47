// The libFuzzer entry points, compiled only in the libFuzzer build (`bash Tools/fuzz.sh --libfuzzer
// TARGET`, which passes -sanitize=fuzzer,address -parse-as-library -DLIBFUZZER). libFuzzer drives
// the mutations by coverage and calls LLVMFuzzerTestOneInput once per input. The target is named by
// the LEDGER_FUZZ_TARGET environment variable; a broken property aborts, so libFuzzer saves the input.
//
// SwiftPM links an executable product with `main` aliased to `<module>_main`, so libFuzzer's own
// `main` is not used: `ledger_fuzz_main` below hands the command line to libFuzzer's driver.

#if LIBFUZZER
import Foundation

nonisolated(unsafe) private var selected: FuzzTarget?

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    if selected == nil {
        let name = ProcessInfo.processInfo.environment["LEDGER_FUZZ_TARGET"] ?? "json"
        let corpus = Corpus()
        guard let t = makeTargets(corpus).first(where: { $0.name == name }) else {
            FileHandle.standardError.write(Data("ledger-fuzz: no target \(name) (set LEDGER_FUZZ_TARGET)\n".utf8))
            exit(64)
        }
        selected = t
    }
    let input = size == 0 || data == nil ? [] : Array(UnsafeBufferPointer(start: data, count: size))
    if case .violation(let why) = selected!.run(input) {
        FileHandle.standardError.write(Data("ledger-fuzz: VIOLATION in \(selected!.name): \(why)\n".utf8))
        abort()
    }
    return 0
}

@_silgen_name("LLVMFuzzerRunDriver")
func llvmFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt

@_cdecl("ledger_fuzz_main")
public func ledgerFuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var count = argc
    var vector = argv
    return llvmFuzzerRunDriver(&count, &vector) { data, size in fuzzOneInput(data, size) }
}
#endif
