using Microsoft.ML;
using Microsoft.ML.Data;

namespace Stakeout.Training;

/// <summary>
/// An ML.NET <see cref="IDataView"/> over rows of a <see cref="TrainingTable"/>, without a copy: each cursor gathers the
/// model's features of the current row straight from the table's row-major arrays into one reused buffer. Columns:
/// "Features" (vector of the model's features, optionally min-max scaled), "Label" (key, 1-based class id, or Boolean for
/// binary trainers) and "Weight".
/// </summary>
internal sealed class TableDataView : IDataView
{
    public const string FeaturesColumn = "Features";
    public const string LabelColumn = "Label";
    public const string WeightColumn = "Weight";

    private readonly TrainingTable _table;
    private readonly IReadOnlyList<int> _rows;
    private readonly int[] _features;
    private readonly float[]? _classWeights;
    private readonly bool _booleanLabel;
    private readonly (float[] Min, float[] Max)? _scale;

    /// <param name="table">The rows' home.</param>
    /// <param name="rows">Row numbers in order (repeats allowed: that is how oversampling is expressed).</param>
    /// <param name="features">Canonical feature indices, in model input order.</param>
    /// <param name="classWeights">Weight per class id, or null for weight 1.</param>
    /// <param name="booleanLabel">True: Label is Boolean (class id != 0 means positive), for binary trainers.</param>
    /// <param name="scale">Min-max scaling per model input, clamped to [0, 1] (0 when max == min).</param>
    public TableDataView(TrainingTable table, IReadOnlyList<int> rows, IReadOnlyList<int> features, float[]? classWeights = null, bool booleanLabel = false, (float[] Min, float[] Max)? scale = null)
    {
        _table = table;
        _rows = rows;
        _features = [.. features];
        _classWeights = classWeights;
        _booleanLabel = booleanLabel;
        _scale = scale;
        var builder = new DataViewSchema.Builder();
        builder.AddColumn(FeaturesColumn, new VectorDataViewType(NumberDataViewType.Single, _features.Length));
        builder.AddColumn(LabelColumn, booleanLabel ? BooleanDataViewType.Instance : new KeyDataViewType(typeof(uint), table.Classes.Count));
        builder.AddColumn(WeightColumn, NumberDataViewType.Single);
        Schema = builder.ToSchema();
    }

    public bool CanShuffle => false;

    public DataViewSchema Schema { get; }

    public long? GetRowCount() => _rows.Count;

    public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null) => new Cursor(this);

    public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null) => [new Cursor(this)];

    /// <summary>Writes the model inputs of table row <paramref name="row"/> (scaled when this view scales) into <paramref name="destination"/>.</summary>
    public void Gather(int row, Span<float> destination)
    {
        var values = _table.Row(row);
        for (int j = 0; j < _features.Length; j++)
        {
            float v = values[_features[j]];
            if (_scale is { } s)
            {
                float range = s.Max[j] - s.Min[j];
                v = range > 0 ? Math.Clamp((v - s.Min[j]) / range, 0f, 1f) : 0f;
            }

            destination[j] = v;
        }
    }

    private sealed class Cursor(TableDataView view) : DataViewRowCursor
    {
        private readonly float[] _buffer = new float[view._features.Length];
        private long _position = -1;
        private int _row = -1;

        public override long Position => _position;

        public override long Batch => 0;

        public override DataViewSchema Schema => view.Schema;

        public override bool IsColumnActive(DataViewSchema.Column column) => true;

        public override bool MoveNext()
        {
            if (_position + 1 >= view._rows.Count)
            {
                _row = -1;
                return false;
            }

            _position++;
            _row = view._rows[(int)_position];
            view.Gather(_row, _buffer);
            return true;
        }

        public override ValueGetter<DataViewRowId> GetIdGetter() => (ref DataViewRowId value) => value = new DataViewRowId((ulong)_position, 0);

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
        {
            Delegate getter = column.Name switch
            {
                FeaturesColumn => (ValueGetter<VBuffer<float>>)((ref VBuffer<float> value) =>
                {
                    var editor = VBufferEditor.Create(ref value, _buffer.Length);
                    _buffer.CopyTo(editor.Values);
                    value = editor.Commit();
                }),
                LabelColumn when view._booleanLabel => (ValueGetter<bool>)((ref bool value) => value = view._table.Label(_row) != 0),
                LabelColumn => (ValueGetter<uint>)((ref uint value) => value = (uint)view._table.Label(_row) + 1),
                WeightColumn => (ValueGetter<float>)((ref float value) => value = view._classWeights is { } w ? w[view._table.Label(_row)] : 1f),
                _ => throw new ArgumentOutOfRangeException(nameof(column), column.Name, "no such column in this view."),
            };
            return getter as ValueGetter<TValue>
                ?? throw new InvalidOperationException($"column '{column.Name}' is not of type {typeof(TValue).Name}.");
        }
    }
}
