namespace Stakeout.Ledger.Ipfs;

/// <summary>
/// How a <see cref="KuboClient"/> talks to one node: time-outs and retries. Validated once, when the client is built.
/// </summary>
public sealed record KuboClientOptions
{
    /// <summary>Time-out of one HTTP attempt (default 30 s).</summary>
    public TimeSpan AttemptTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How long a node may search its peers for a block it does not hold (Kubo's <c>timeout</c> option on
    /// <c>block/get</c>; default 20 s). Past it the block counts as absent from that node.
    /// </summary>
    public TimeSpan FetchTimeout { get; init; } = TimeSpan.FromSeconds(20);

    /// <summary>Retries after the first attempt of a call that failed for a transient reason (default 4).</summary>
    public int MaxRetries { get; init; } = 4;

    /// <summary>Delay before the first retry; it doubles each retry, with jitter (default 200 ms).</summary>
    public TimeSpan RetryBaseDelay { get; init; } = TimeSpan.FromMilliseconds(200);

    /// <summary>Longest delay between two retries (default 5 s).</summary>
    public TimeSpan RetryMaxDelay { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Seed of the retry jitter, so a run's delays can be reproduced (default 17).</summary>
    public int JitterSeed { get; init; } = 17;

    /// <summary>The defaults.</summary>
    public static KuboClientOptions Default { get; } = new();

    /// <summary>Throws when an option is out of range; the message names the option.</summary>
    public void Validate()
    {
        if (AttemptTimeout <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(AttemptTimeout), AttemptTimeout, "The attempt time-out must be positive.");
        }

        if (FetchTimeout <= TimeSpan.Zero || FetchTimeout >= AttemptTimeout)
        {
            throw new ArgumentOutOfRangeException(nameof(FetchTimeout), FetchTimeout, $"The fetch time-out must be positive and shorter than the attempt time-out ({AttemptTimeout}).");
        }

        if (MaxRetries is < 0 or > 100)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxRetries), MaxRetries, "Retries must be between 0 and 100.");
        }

        if (RetryBaseDelay <= TimeSpan.Zero || RetryMaxDelay < RetryBaseDelay)
        {
            throw new ArgumentOutOfRangeException(nameof(RetryBaseDelay), RetryBaseDelay, $"The retry base delay must be positive and at most the maximum delay ({RetryMaxDelay}).");
        }
    }
}
