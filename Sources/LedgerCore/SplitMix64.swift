/// SplitMix64: a small, fast generator fully determined by its seed, for generated data that must
/// be reproducible (benchmark archives, fuzz inputs, randomized tests). Never for keys or event
/// ids of real events: those come from the system's secure random source.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    public var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
