using Stakeout.Core;

namespace Stakeout.Evaluation;

/// <summary>
/// Collects predictions one row (or one batch) at a time and turns them into <see cref="EvaluationMetrics"/>, so data
/// can be streamed through a scorer without holding its features. Not thread-safe: one writer.
/// </summary>
/// <remarks>
/// <para>Rows are tallied at every level from the model's own up to binary, because the data's coarsest label is only
/// known at the end of the stream; <see cref="Compute"/> then reports the finest level every row and the model share.</para>
/// <para>Decision rule (the detector's): a row's attack score is 1 − P(benign class); when it reaches the threshold the
/// predicted label is the most probable non-benign label at the level, otherwise BENIGN. A model without a benign class
/// predicts its most probable label.</para>
/// <para>For PR-AUC the model's probabilities are kept, 4 bytes per class per row (a 15-class model on 2.8 M rows holds
/// 170 MB); pass <c>keepScores: false</c> to skip PR-AUC and keep memory flat.</para>
/// </remarks>
public sealed partial class EvaluationAccumulator
{
    private const int ChunkRows = 1 << 16;

    private readonly int _classCount;
    private readonly int _benignIndex;
    private readonly double _threshold;
    private readonly bool _keepScores;
    private readonly LevelState?[] _levels = new LevelState?[3];
    private readonly List<TruthEntry> _truths = [];
    private readonly Dictionary<string, int> _truthByName = new(StringComparer.Ordinal);
    private readonly List<float[]> _scoreChunks = [];
    private readonly List<int[]> _truthChunks = [];
    private long _benignRows;
    private long _benignFlagged;
    private long _attackRows;
    private long _attackDetected;
    private LabelLevel _dataLevel = LabelLevel.Class;

    /// <summary>Creates an accumulator for a model's outputs.</summary>
    /// <param name="modelClasses">The model's classes in probability order (manifest classes at <paramref name="modelLevel"/>).</param>
    /// <param name="modelLevel">The level of the model's classes.</param>
    /// <param name="benignClassIndex">Index of the benign class in <paramref name="modelClasses"/>, or -1 when there is none.</param>
    /// <param name="threshold">Attack-score threshold, in [0, 1].</param>
    /// <param name="keepScores">Keep probabilities for PR-AUC.</param>
    /// <param name="merges">
    /// Labels compared as one (<see cref="LabelMerges"/>): applied to the model's classes and to the true labels at
    /// every level, so a model can be measured on data labelled by another taxonomy (e.g. DDoS=DoS).
    /// </param>
    public EvaluationAccumulator(IReadOnlyList<string> modelClasses, LabelLevel modelLevel, int benignClassIndex, double threshold, bool keepScores = true, LabelMerges? merges = null)
    {
        ArgumentNullException.ThrowIfNull(modelClasses);
        if (modelClasses.Count == 0)
        {
            throw new ArgumentException("the model has no classes.", nameof(modelClasses));
        }

        if (benignClassIndex < -1 || benignClassIndex >= modelClasses.Count)
        {
            throw new ArgumentOutOfRangeException(nameof(benignClassIndex), benignClassIndex, $"must be -1 or an index into the {modelClasses.Count} model classes.");
        }

        if (!(threshold >= 0 && threshold <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(threshold), threshold, "the attack-score threshold must be between 0 and 1.");
        }

        _classCount = modelClasses.Count;
        _benignIndex = benignClassIndex;
        _threshold = threshold;
        _keepScores = keepScores;
        Merges = merges ?? LabelMerges.None;
        ModelClasses = [.. modelClasses];
        ModelLevel = modelLevel;
        for (var level = modelLevel; level <= LabelLevel.Binary; level++)
        {
            _levels[(int)level] = new LevelState(ModelClasses, level, benignClassIndex, Merges);
        }
    }

    /// <summary>Labels compared as one.</summary>
    public LabelMerges Merges { get; }

    /// <summary>The model's classes, in probability order.</summary>
    public IReadOnlyList<string> ModelClasses { get; }

    /// <summary>The level of the model's classes.</summary>
    public LabelLevel ModelLevel { get; }

    /// <summary>Rows added.</summary>
    public long Rows { get; private set; }

    /// <summary>The coarsest level of any true label added so far (class when none was added).</summary>
    public LabelLevel DataLevel => _dataLevel;

    /// <summary>The finest level the model and the rows added so far share.</summary>
    public LabelLevel SharedLevel => EvaluationLevels.Shared(ModelLevel, _dataLevel);

    /// <summary>Adds one row: its true label and the model's probabilities (one per model class).</summary>
    public void Add(LabelDefinition truth, ReadOnlySpan<float> probabilities)
    {
        ArgumentNullException.ThrowIfNull(truth);
        AddRow(Resolve(truth), probabilities);
    }

    /// <summary>Adds one row by raw label name (resolved through <see cref="LabelTaxonomy"/>).</summary>
    public void Add(string truth, ReadOnlySpan<float> probabilities)
    {
        ArgumentNullException.ThrowIfNull(truth);
        Add(LabelTaxonomy.Resolve(truth), probabilities);
    }

    /// <summary>
    /// Adds <paramref name="labelIds"/>.Length rows: label ids index <paramref name="vocabulary"/> (a reader's labels);
    /// <paramref name="probabilities"/> holds one row of model probabilities per label, row-major.
    /// </summary>
    public void AddBatch(ReadOnlySpan<int> labelIds, IReadOnlyList<LabelDefinition> vocabulary, ReadOnlySpan<float> probabilities)
    {
        ArgumentNullException.ThrowIfNull(vocabulary);
        if (probabilities.Length < labelIds.Length * _classCount)
        {
            throw new ArgumentException($"{labelIds.Length} rows need {labelIds.Length * _classCount} probabilities; {probabilities.Length} were given.", nameof(probabilities));
        }

        Span<int> slots = vocabulary.Count <= 256 ? stackalloc int[vocabulary.Count] : new int[vocabulary.Count];
        slots.Fill(-1);
        for (int r = 0; r < labelIds.Length; r++)
        {
            int id = labelIds[r];
            if ((uint)id >= (uint)vocabulary.Count)
            {
                throw new ArgumentException($"row {r} has label id {id}, outside the vocabulary of {vocabulary.Count} labels (unlabelled rows cannot be evaluated).", nameof(labelIds));
            }

            if (slots[id] < 0)
            {
                slots[id] = Resolve(vocabulary[id]);
            }

            AddRow(slots[id], probabilities.Slice(r * _classCount, _classCount));
        }
    }

    /// <summary>
    /// The metrics at <paramref name="level"/>, by default <see cref="SharedLevel"/>. A level finer than the data's labels
    /// or the model's classes is refused: those rows cannot be told apart there.
    /// </summary>
    public EvaluationMetrics Compute(LabelLevel? level = null)
    {
        var at = level ?? SharedLevel;
        if (at < SharedLevel)
        {
            throw new ArgumentException(
                $"cannot compare at {EvaluationLevels.Name(at)} level: the model is {EvaluationLevels.Name(ModelLevel)}-level and the data's labels are {EvaluationLevels.Name(_dataLevel)}-level; the finest shared level is {EvaluationLevels.Name(SharedLevel)}.",
                nameof(level));
        }

        var state = _levels[(int)at]!;
        int n = state.Labels.Count;
        var predicted = new long[n];
        var support = new long[n];
        for (int t = 0; t < n; t++)
        {
            for (int p = 0; p < n; p++)
            {
                long c = state.Cell(t, p);
                support[t] += c;
                predicted[p] += c;
            }
        }

        // Report labels with rows or predictions (scikit-learn's label set): the model's order first, then labels only
        // the data has, by name.
        var shown = Enumerable.Range(0, n).Where(i => support[i] > 0 || predicted[i] > 0)
            .OrderBy(i => i < state.ModelLabelCount ? i : int.MaxValue)
            .ThenBy(i => state.Labels[i], StringComparer.Ordinal)
            .ToArray();
        var confusion = new long[shown.Length][];
        long correct = 0;
        for (int a = 0; a < shown.Length; a++)
        {
            confusion[a] = new long[shown.Length];
            for (int b = 0; b < shown.Length; b++)
            {
                confusion[a][b] = state.Cell(shown[a], shown[b]);
            }

            correct += confusion[a][a];
        }

        // Averages are over the classes present in the data (support > 0). A class the model predicted that has no row
        // here has no recall and an F1 of 0 by definition; counting it would measure the data's coverage, not the model
        // (a four-class file scored by a seven-class model gave a macro-F1 of 0.48 where the present classes had 0.95).
        // Those predictions stay in the confusion matrix and accuracy, are listed apart with their counts, and the
        // scikit-learn-style average over every label with rows or predictions is kept as macro_f1_all_labels.
        var all = ClassificationMath.PerClass(confusion);
        var labels = shown.Select(i => state.Labels[i]).ToArray();
        var present = Enumerable.Range(0, shown.Length).Where(a => all[a].Support > 0).ToArray();
        var absent = Enumerable.Range(0, shown.Length).Where(a => all[a].Support == 0).ToArray();
        double Mean(Func<ClassMetrics, double> f) => present.Length == 0 ? 0 : present.Average(a => f(all[a]));
        double Weighted(Func<ClassMetrics, double> f) => Rows == 0 ? 0 : present.Sum(a => f(all[a]) * all[a].Support) / Rows;
        var presentLabels = present.Select(a => labels[a]).ToArray();
        var prAuc = _keepScores ? PrAuc(state, [.. present.Select(a => shown[a])]) : Ordered(presentLabels, presentLabels.Select(_ => (double?)null).ToArray());

        return new EvaluationMetrics
        {
            Level = at,
            Rows = Rows,
            Accuracy = Rows == 0 ? 0 : (double)correct / Rows,
            MacroF1 = Mean(m => m.F1),
            WeightedF1 = Weighted(m => m.F1),
            MacroPrecision = Mean(m => m.Precision),
            MacroRecall = Mean(m => m.Recall),
            WeightedPrecision = Weighted(m => m.Precision),
            WeightedRecall = Weighted(m => m.Recall),
            MacroF1AllLabels = all.Length == 0 ? 0 : all.Average(m => m.F1),
            ClassesPresent = presentLabels,
            PredictedNotInData = absent.ToDictionary(a => labels[a], a => confusion.Sum(row => row[a]), StringComparer.Ordinal),
            MergedLabels = Merges.Map,
            BenignFpr = _benignIndex < 0 || _benignRows == 0 ? null : (double)_benignFlagged / _benignRows,
            AttackRecall = _benignIndex < 0 || _attackRows == 0 ? null : (double)_attackDetected / _attackRows,
            PerClass = Ordered(presentLabels, [.. present.Select(a => all[a])]),
            Confusion = new ConfusionMatrix(labels, confusion),
            PrAuc = prAuc,
            LabelsNotInModel = [.. shown.Where(i => i >= state.ModelLabelCount && support[i] > 0).Select(i => state.Labels[i])],
            Threshold = _threshold,
            BenignRows = _benignRows,
            BenignFlagged = _benignFlagged,
            AttackRows = _attackRows,
            AttackDetected = _attackDetected,
        };
    }

    private static Dictionary<string, T> Ordered<T>(string[] labels, T[] values)
    {
        var result = new Dictionary<string, T>(labels.Length, StringComparer.Ordinal);
        for (int i = 0; i < labels.Length; i++)
        {
            result.Add(labels[i], values[i]);
        }

        return result;
    }

    private Dictionary<string, double?> PrAuc(LevelState state, int[] shown)
    {
        // One class per task: each is a gather and two sorts of every row's score, independent of the others.
        var values = new double?[shown.Length];
        Parallel.For(0, shown.Length, () => (new double[Rows], new bool[Rows]), (i, _, buffers) =>
        {
            var (scores, positive) = buffers;
            Gather(state, shown[i], scores, positive);
            values[i] = ClassificationMath.AveragePrecision(scores, positive);
            return buffers;
        }, _ => { });
        var result = new Dictionary<string, double?>(shown.Length, StringComparer.Ordinal);
        for (int i = 0; i < shown.Length; i++)
        {
            result.Add(state.Labels[shown[i]], values[i]);
        }

        return result;
    }

    private int Resolve(LabelDefinition truth)
    {
        string key = truth.Name + "\u0001" + (int)truth.Level;
        if (_truthByName.TryGetValue(key, out int slot))
        {
            return slot;
        }

        var indexAt = new int[3];
        for (int l = 0; l < 3; l++)
        {
            var level = (LabelLevel)l;
            indexAt[l] = _levels[l] is { } state && level >= truth.Level ? state.IndexOf(Merges.Apply(truth.At(level))) : -1;
        }

        slot = _truths.Count;
        _truths.Add(new TruthEntry(truth, indexAt));
        _truthByName.Add(key, slot);
        return slot;
    }

    private void AddRow(int slot, ReadOnlySpan<float> probabilities)
    {
        if (probabilities.Length < _classCount)
        {
            throw new ArgumentException($"a row needs {_classCount} probabilities; {probabilities.Length} were given.", nameof(probabilities));
        }

        probabilities = probabilities[.._classCount];
        var truth = _truths[slot];
        if (truth.Definition.Level > _dataLevel)
        {
            _dataLevel = truth.Definition.Level;
        }

        double attackScore = _benignIndex < 0 ? double.NaN : 1.0 - probabilities[_benignIndex];
        bool flagged = attackScore >= _threshold;
        if (_benignIndex >= 0)
        {
            if (truth.Definition.IsAttack)
            {
                _attackRows++;
                _attackDetected += flagged ? 1 : 0;
            }
            else
            {
                _benignRows++;
                _benignFlagged += flagged ? 1 : 0;
            }
        }

        foreach (var state in _levels)
        {
            if (state is not null && truth.IndexAt[(int)state.Level] is int t and >= 0)
            {
                state.Count(t, state.Predict(probabilities, flagged));
            }
        }

        if (_keepScores)
        {
            int within = (int)(Rows % ChunkRows);
            if (within == 0)
            {
                _scoreChunks.Add(new float[ChunkRows * _classCount]);
                _truthChunks.Add(new int[ChunkRows]);
            }

            probabilities.CopyTo(_scoreChunks[^1].AsSpan(within * _classCount));
            _truthChunks[^1][within] = slot;
        }

        Rows++;
    }

    private sealed record TruthEntry(LabelDefinition Definition, int[] IndexAt);

    /// <summary>Labels, the model-to-label map and the confusion counts at one level.</summary>
    private sealed class LevelState
    {
        private readonly List<string> _labels = [];
        private readonly Dictionary<string, int> _index = new(StringComparer.Ordinal);
        private readonly double[] _scratch;
        private readonly int _benignLabel;
        private long[] _cells;
        private int _stride;

        public LevelState(IReadOnlyList<string> modelClasses, LabelLevel level, int benignClassIndex, LabelMerges merges)
        {
            Level = level;
            ModelToLabel = new int[modelClasses.Count];
            for (int k = 0; k < modelClasses.Count; k++)
            {
                ModelToLabel[k] = IndexOf(merges.Apply(EvaluationLevels.Map(modelClasses[k], level)));
            }

            ModelLabelCount = _labels.Count;
            _benignLabel = benignClassIndex < 0 ? -1 : ModelToLabel[benignClassIndex];
            _scratch = new double[ModelLabelCount];
            _stride = Math.Max(4, _labels.Count * 2);
            _cells = new long[_stride * _stride];
        }

        public LabelLevel Level { get; }

        public List<string> Labels => _labels;

        /// <summary>Labels the model can predict at this level (the first ones); labels after them come only from the data.</summary>
        public int ModelLabelCount { get; }

        public int[] ModelToLabel { get; }

        public long Cell(int truth, int predicted) => _cells[(truth * _stride) + predicted];

        public void Count(int truth, int predicted) => _cells[(truth * _stride) + predicted]++;

        public int IndexOf(string label)
        {
            if (_index.TryGetValue(label, out int i))
            {
                return i;
            }

            i = _labels.Count;
            _labels.Add(label);
            _index.Add(label, i);
            if (_cells is not null && i >= _stride)
            {
                Grow();
            }

            return i;
        }

        public int Predict(ReadOnlySpan<float> probabilities, bool flagged)
        {
            var sums = _scratch.AsSpan();
            sums.Clear();
            for (int k = 0; k < probabilities.Length; k++)
            {
                sums[ModelToLabel[k]] += probabilities[k];
            }

            if (_benignLabel >= 0 && !flagged)
            {
                return _benignLabel;
            }

            int best = -1;
            for (int i = 0; i < sums.Length; i++)
            {
                if (i != _benignLabel && (best < 0 || sums[i] > sums[best]))
                {
                    best = i;
                }
            }

            // A model whose only class is benign can predict nothing else.
            return best < 0 ? _benignLabel : best;
        }

        private void Grow()
        {
            int stride = _stride * 2;
            var cells = new long[stride * stride];
            for (int t = 0; t < _stride; t++)
            {
                Array.Copy(_cells, t * _stride, cells, t * stride, _stride);
            }

            _cells = cells;
            _stride = stride;
        }
    }
}
