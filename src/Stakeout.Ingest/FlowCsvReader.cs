using System.IO.Hashing;
using System.Runtime.InteropServices;
using Stakeout.Core;

namespace Stakeout.Ingest;

/// <summary>Where a read is: bytes of input consumed, rows read, the file being read.</summary>
/// <param name="BytesDone">Input bytes consumed so far (on-disk bytes for gzip).</param>
/// <param name="BytesTotal">Input bytes in all.</param>
/// <param name="RowsRead">Data lines read so far.</param>
/// <param name="File">The file being read.</param>
public readonly record struct ReadProgress(long BytesDone, long BytesTotal, long RowsRead, string File);

/// <summary>
/// Reads flow CSVs of every known layout into <see cref="FlowBatch"/>es, in parallel chunks, accounting for every row.
/// Configure once, then <see cref="Open"/> a set of paths.
/// </summary>
public sealed class FlowCsvReader
{
    private readonly FlowReaderOptions _options;

    /// <summary>Creates a reader; the options are validated here.</summary>
    public FlowCsvReader(FlowReaderOptions? options = null) => _options = (options ?? new FlowReaderOptions()).Validate();

    /// <summary>The options in force.</summary>
    public FlowReaderOptions Options => _options;

    /// <summary>
    /// Resolves <paramref name="paths"/> (files, directories searched recursively, .csv.gz, .zip; either path separator).
    /// Throws <see cref="FlowDataException"/> for a path that does not exist.
    /// </summary>
    public FlowRead Open(IEnumerable<string> paths)
    {
        ArgumentNullException.ThrowIfNull(paths);
        var list = paths.ToList();
        if (list.Count == 0)
        {
            throw new ArgumentException("At least one path is required.", nameof(paths));
        }

        return new FlowRead(list, _options);
    }
}

/// <summary>One read over a set of inputs. Enumerate <see cref="ReadBatches"/> once; <see cref="Report"/> is complete after.</summary>
public sealed class FlowRead
{
    private readonly FlowReaderOptions _options;
    private readonly HashSet<UInt128>? _seen;
    private bool _started;

    internal FlowRead(IReadOnlyList<string> paths, FlowReaderOptions options)
    {
        _options = options;
        Report = new ReadReport(new LabelVocabulary());
        Inputs = FlowInputs.Expand(paths, Report.AddQuirk);
        TotalBytes = Inputs.Sum(i => i.Length);
        if (options.Duplicates != DuplicatePolicy.Ignore)
        {
            _seen = [];
        }
    }

    /// <summary>The files (and archive entries) that will be read, in order.</summary>
    public IReadOnlyList<FlowInput> Inputs { get; }

    /// <summary>Bytes of input in all.</summary>
    public long TotalBytes { get; }

    /// <summary>The accounting so far; complete once <see cref="ReadBatches"/> has been enumerated to its end.</summary>
    public ReadReport Report { get; }

    /// <summary>Label ids in batches index this vocabulary.</summary>
    public LabelVocabulary Labels => Report.Labels;

    /// <summary>
    /// Streams batches in file and line order. Each batch is new and owned by the caller. Only one batch per parse worker
    /// is in memory at a time besides the caller's.
    /// </summary>
    public IEnumerable<FlowBatch> ReadBatches(IProgress<ReadProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        if (_started)
        {
            throw new InvalidOperationException("A FlowRead can be enumerated once; open the paths again to read them again.");
        }

        _started = true;
        return Enumerate(progress, cancellationToken);
    }

    private IEnumerable<FlowBatch> Enumerate(IProgress<ReadProgress>? progress, CancellationToken cancellationToken)
    {
        long bytesBefore = 0;
        for (int index = 0; index < Inputs.Count; index++)
        {
            var input = Inputs[index];
            var file = new FileReport(input.DisplayName) { Bytes = input.Length };
            Report.FileList.Add(file);
            var opened = OpenInput(input, file);
            if (opened is null)
            {
                bytesBefore += input.Length;
                continue;
            }

            var (stream, position, chunker, map, first) = opened.Value;
            using (stream)
            {
                var inFlight = new Queue<Task<(FlowBatch Batch, ChunkTally Tally)>>();
                int parallelism = _options.EffectiveParallelism;
                var next = first;
                while (next is not null || TryNextChunk(chunker, file, out var c) && (next = c) is not null)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    var chunk = next.Value;
                    next = null;
                    inFlight.Enqueue(Task.Run(() => ParseChunk(chunk, map, input.DisplayName, index), cancellationToken));
                    if (inFlight.Count > parallelism)
                    {
                        var (batch, tally) = inFlight.Dequeue().GetAwaiter().GetResult();
                        Complete(batch, tally, map, file);
                        progress?.Report(new ReadProgress(bytesBefore + position(), TotalBytes, Report.RowsRead, input.DisplayName));
                        if (batch.Count > 0)
                        {
                            yield return batch;
                        }
                    }
                }

                while (inFlight.Count > 0)
                {
                    var (batch, tally) = inFlight.Dequeue().GetAwaiter().GetResult();
                    Complete(batch, tally, map, file);
                    if (batch.Count > 0)
                    {
                        yield return batch;
                    }
                }
            }

            bytesBefore += input.Length;
            progress?.Report(new ReadProgress(bytesBefore, TotalBytes, Report.RowsRead, input.DisplayName));
            foreach (var quirk in map.Quirks)
            {
                Report.AddQuirk(quirk.Key, quirk.Value);
            }
        }
    }

    private (Stream Stream, Func<long> Position, LineChunker Chunker, HeaderMap Map, Chunk? First)? OpenInput(FlowInput input, FileReport file)
    {
        Stream? stream = null;
        try
        {
            stream = input.Open(out var position);
            var chunker = new LineChunker(stream, _options.ChunkBytes);
            if (!chunker.TryNext(out var chunk))
            {
                Report.AddQuirk("empty_file", 1);
                stream.Dispose();
                return null;
            }

            if (chunk.LongLine)
            {
                throw new FlowDataException(input.DisplayName, 1, null, $"not a flow CSV: the first line is longer than {_options.ChunkBytes} bytes.");
            }

            var data = chunk.Data;
            int headerEnd = data.IndexOf((byte)'\n');
            var header = headerEnd < 0 ? data : data[..headerEnd];
            if (header.StartsWith([(byte)0xEF, (byte)0xBB, (byte)0xBF]))
            {
                header = header[3..];
                Report.AddQuirk("utf8_bom", 1);
            }
            else if (header.StartsWith([(byte)0xFF, (byte)0xFE]) || header.StartsWith([(byte)0xFE, (byte)0xFF]))
            {
                throw new FlowDataException(input.DisplayName, 1, null, "the file is UTF-16; save it as UTF-8 (flow CSVs are UTF-8 or ASCII text).");
            }

            if (!header.IsEmpty && header[^1] == (byte)'\r')
            {
                header = header[..^1];
                Report.AddQuirk("crlf_line_endings", 1);
            }

            var map = HeaderMap.Parse(header, input.DisplayName, _options);
            file.Layout = map.Layout;
            file.Columns = map.ColumnCount;
            file.FeaturesPresent = map.FeaturePresent.Count(p => p);
            file.MissingFeatures = [.. map.AbsentFeatures.Select(f => FeatureSchema.Get(f).Name)];
            file.HasIdentity = map.HasIdentity;
            file.HasLabel = map.HasLabel;

            // The rest of the first chunk holds the first data lines, from line 2.
            Chunk? rest = null;
            if (headerEnd >= 0 && headerEnd + 1 < chunk.Length)
            {
                int restLength = chunk.Length - headerEnd - 1;
                byte[] copy = System.Buffers.ArrayPool<byte>.Shared.Rent(restLength);
                Array.Copy(chunk.Buffer, headerEnd + 1, copy, 0, restLength);
                rest = new Chunk(copy, restLength, 2, chunk.LineCount - 1, LongLine: false);
            }

            chunk.Return();
            return (stream, position, chunker, map, rest);
        }
        catch (FlowDataException ex) when (_options.SkipBadFiles)
        {
            stream?.Dispose();
            file.Error = ex.Message;
            Report.AddQuirk("unreadable_file", 1);
            return null;
        }
        catch
        {
            stream?.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The next chunk of the file. A file found unreadable part way (a cut gzip, a corrupt zip entry) ends here with its
    /// error recorded when <see cref="FlowReaderOptions.SkipBadFiles"/> is on; the rows before stay read and accounted.
    /// </summary>
    private bool TryNextChunk(LineChunker chunker, FileReport file, out Chunk chunk)
    {
        try
        {
            return chunker.TryNext(out chunk);
        }
        catch (FlowDataException ex) when (_options.SkipBadFiles)
        {
            file.Error = ex.Message;
            Report.AddQuirk("unreadable_file", 1);
            chunk = default;
            return false;
        }
    }

    private (FlowBatch, ChunkTally) ParseChunk(Chunk chunk, HeaderMap map, string file, int sourceIndex)
    {
        var tally = new ChunkTally();
        var batch = new FlowBatch((int)Math.Max(1, chunk.LineCount), _options.ReadIdentity && (map.HasIdentity || map.HasFlowId)) { SourceIndex = sourceIndex };
        try
        {
            if (chunk.LongLine)
            {
                tally.RowsRead++;
                tally.RowsRejected++;
                tally.RejectCounts[(int)RejectReason.LineTooLong]++;
                tally.Rejects.Add(new RejectedRow(file, chunk.FirstLine, null, RejectReason.LineTooLong, $"line is longer than {_options.ChunkBytes} bytes"));
            }
            else
            {
                new ChunkParser(map, _options, Report.Labels, file, tally).Parse(chunk.Data, chunk.FirstLine, batch);
                if (_seen is not null)
                {
                    // Hashing every row is most of the duplicate check's cost; done here it runs on every core, and only
                    // the set lookups stay in file order on the reading thread (issue 23, finding 5).
                    tally.RowKeys = RowKeys(batch);
                }
            }
        }
        finally
        {
            chunk.Return();
        }

        return (batch, tally);
    }

    private void Complete(FlowBatch batch, ChunkTally tally, HeaderMap map, FileReport file)
    {
        if (_options.Strict && tally.Rejects.Count > 0)
        {
            var r = tally.Rejects[0];
            throw new FlowDataException(r.File, r.Line, r.Field, r.Detail);
        }

        long duplicates = _seen is null ? 0 : Deduplicate(batch, tally.RowKeys);
        long dropped = tally.NonFiniteDrops + (_options.Duplicates == DuplicatePolicy.Drop ? duplicates : 0);

        file.RowsRead += tally.RowsRead;
        file.RowsRejected += tally.RowsRejected;
        file.RowsDropped += dropped;
        file.RowsUsed += batch.Count;
        if (tally.CoarsestLevel is { } level && (file.LabelLevel is null || level > file.LabelLevel))
        {
            file.LabelLevel = level;
        }

        Report.RowsRead += tally.RowsRead;
        Report.RowsRejected += tally.RowsRejected;
        Report.RowsDropped += dropped;
        Report.RowsUsed += batch.Count;
        Report.Duplicates += duplicates;
        AddDrop(DropReason.NonFinite, tally.NonFiniteDrops);
        AddDrop(DropReason.Duplicate, _options.Duplicates == DuplicatePolicy.Drop ? duplicates : 0);
        for (int r = 0; r < tally.RejectCounts.Length; r++)
        {
            if (tally.RejectCounts[r] > 0)
            {
                var reason = (RejectReason)r;
                Report.RejectCounts[reason] = Report.RejectCounts.GetValueOrDefault(reason) + tally.RejectCounts[r];
            }
        }

        foreach (var reject in tally.Rejects)
        {
            if (Report.RejectList.Count >= _options.MaxRejectDetails)
            {
                break;
            }

            Report.RejectList.Add(reject);
        }

        tally.AddQuirksTo(Report.AddQuirk);
        if (duplicates > 0)
        {
            Report.AddQuirk("exact_duplicate_rows", duplicates);
        }

        if (map.HasLabel)
        {
            CountClasses(batch);
        }
    }

    private void AddDrop(DropReason reason, long count)
    {
        if (count > 0)
        {
            Report.DropCounts[reason] = Report.DropCounts.GetValueOrDefault(reason) + count;
        }
    }

    private void CountClasses(FlowBatch batch)
    {
        // A read may meet any number of labels (unknown ones are kept as classes): the stack holds only a small vocabulary.
        int labels = Math.Max(1, Report.Labels.Count);
        Span<long> counts = labels <= 256 ? stackalloc long[labels] : new long[labels];
        for (int r = 0; r < batch.Count; r++)
        {
            int id = batch.LabelIds[r];
            if ((uint)id < (uint)counts.Length)
            {
                counts[id]++;
            }
        }

        for (int id = 0; id < counts.Length; id++)
        {
            if (counts[id] > 0)
            {
                string name = Report.Labels[id].Name;
                Report.ClassCounts[name] = Report.ClassCounts.GetValueOrDefault(name) + counts[id];
            }
        }
    }

    private static UInt128[] RowKeys(FlowBatch batch)
    {
        var keys = new UInt128[batch.Count];
        for (int r = 0; r < batch.Count; r++)
        {
            var features = batch.Features.AsSpan(r * FeatureSchema.Count, FeatureSchema.Count);
            keys[r] = XxHash128.HashToUInt128(MemoryMarshal.AsBytes(features), batch.LabelIds[r]);
        }

        return keys;
    }

    /// <summary>Finds rows seen before (same features, same label) and, under <see cref="DuplicatePolicy.Drop"/>, removes them.</summary>
    private long Deduplicate(FlowBatch batch, UInt128[]? keys)
    {
        long duplicates = 0;
        int write = 0;
        bool drop = _options.Duplicates == DuplicatePolicy.Drop;
        for (int r = 0; r < batch.Count; r++)
        {
            UInt128 key = keys is not null ? keys[r] : XxHash128.HashToUInt128(MemoryMarshal.AsBytes(batch.Features.AsSpan(r * FeatureSchema.Count, FeatureSchema.Count)), batch.LabelIds[r]);
            bool isNew = _seen!.Add(key);
            if (!isNew)
            {
                duplicates++;
                if (drop)
                {
                    continue;
                }
            }

            if (write != r)
            {
                batch.MoveRow(r, write);
            }

            write++;
        }

        batch.Count = write;
        return duplicates;
    }
}
