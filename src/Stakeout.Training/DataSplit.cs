namespace Stakeout.Training;

/// <summary>How rows are held out for testing.</summary>
public enum SplitMode
{
    /// <summary>Stratified random split: every class keeps its share in both parts.</summary>
    Random,
    /// <summary>Whole files held out (e.g. whole capture days), so no flow of a test file was seen in training.</summary>
    ByFile,
}

/// <summary>Row numbers (into a <see cref="TrainingTable"/>) of the training and the held-out test part.</summary>
/// <param name="Train">Training rows, ascending.</param>
/// <param name="Test">Test rows, ascending.</param>
/// <param name="Mode">How it was split.</param>
/// <param name="TestFraction">The fraction asked for.</param>
/// <param name="Seed">The seed used.</param>
public sealed record DataSplit(IReadOnlyList<int> Train, IReadOnlyList<int> Test, SplitMode Mode, double TestFraction, int Seed)
{
    /// <summary>The manifest name of the mode.</summary>
    public string ModeName => Mode == SplitMode.ByFile ? "by-file" : "random";

    /// <summary>
    /// Splits <paramref name="table"/>. Random: per class, a seeded shuffle and round(n × fraction) rows to test (a class of
    /// one row stays in training). By file: files are taken in a seeded order into the test part until it holds at least
    /// the fraction of rows; at least one file stays on each side.
    /// </summary>
    public static DataSplit Create(TrainingTable table, SplitMode mode, double testFraction, int seed)
    {
        ArgumentNullException.ThrowIfNull(table);
        if (!(testFraction > 0 && testFraction < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(testFraction), testFraction, "the test fraction must be between 0 and 1 (exclusive).");
        }

        var random = new Random(seed);
        var train = new List<int>();
        var test = new List<int>();
        if (mode == SplitMode.Random)
        {
            var byClass = new List<int>[table.Classes.Count];
            for (int c = 0; c < byClass.Length; c++)
            {
                byClass[c] = [];
            }

            for (int row = 0; row < table.Count; row++)
            {
                byClass[table.Label(row)].Add(row);
            }

            foreach (var rows in byClass)
            {
                var shuffled = rows.ToArray();
                random.Shuffle(shuffled);
                int testCount = (int)Math.Round(shuffled.Length * testFraction, MidpointRounding.AwayFromZero);
                testCount = Math.Min(testCount, shuffled.Length - 1);
                test.AddRange(shuffled.AsSpan(0, Math.Max(0, testCount)));
                train.AddRange(shuffled.AsSpan(Math.Max(0, testCount)));
            }
        }
        else
        {
            var sizes = new long[table.Files.Count];
            for (int row = 0; row < table.Count; row++)
            {
                sizes[table.Source(row)]++;
            }

            var nonEmpty = Enumerable.Range(0, sizes.Length).Where(f => sizes[f] > 0).ToArray();
            if (nonEmpty.Length < 2)
            {
                throw new TrainingDataException("--split by-file needs at least two files with rows; give more files or use --split random.");
            }

            random.Shuffle(nonEmpty);
            var testFiles = new HashSet<int>();
            long held = 0;
            foreach (int f in nonEmpty[..^1])
            {
                if (held >= testFraction * table.Count)
                {
                    break;
                }

                testFiles.Add(f);
                held += sizes[f];
            }

            for (int row = 0; row < table.Count; row++)
            {
                (testFiles.Contains(table.Source(row)) ? test : train).Add(row);
            }
        }

        train.Sort();
        test.Sort();
        return new DataSplit(train, test, mode, testFraction, seed);
    }

    /// <summary>
    /// Carves a stratified, seeded validation slice out of <paramref name="trainRows"/> (never the test split) for early
    /// stopping: per class round(n × fraction) rows, and at least one row of every class that has two or more, so the
    /// rare classes have a voice in the stopping rule; a class of one row stays in fitting.
    /// </summary>
    public static (IReadOnlyList<int> Fit, IReadOnlyList<int> Validation) CarveValidation(TrainingTable table, IReadOnlyList<int> trainRows, double fraction, int seed)
    {
        ArgumentNullException.ThrowIfNull(table);
        ArgumentNullException.ThrowIfNull(trainRows);
        if (!(fraction > 0 && fraction < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(fraction), fraction, "the validation fraction must be between 0 and 1 (exclusive).");
        }

        var byClass = new List<int>[table.Classes.Count];
        for (int c = 0; c < byClass.Length; c++)
        {
            byClass[c] = [];
        }

        foreach (int row in trainRows)
        {
            byClass[table.Label(row)].Add(row);
        }

        // A seed of its own, so the slice does not repeat the test split's shuffle.
        var random = new Random(unchecked((seed * 7919) + 104_729));
        var fit = new List<int>(trainRows.Count);
        var validation = new List<int>();
        foreach (var rows in byClass)
        {
            var shuffled = rows.ToArray();
            random.Shuffle(shuffled);
            int count = shuffled.Length < 2 ? 0 : Math.Clamp((int)Math.Round(shuffled.Length * fraction, MidpointRounding.AwayFromZero), 1, shuffled.Length - 1);
            validation.AddRange(shuffled.AsSpan(0, count));
            fit.AddRange(shuffled.AsSpan(count));
        }

        fit.Sort();
        validation.Sort();
        return (fit, validation);
    }
}
