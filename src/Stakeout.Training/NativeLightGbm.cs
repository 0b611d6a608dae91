using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace Stakeout.Training;

/// <summary>
/// The LightGBM C API of the native library ML.NET ships (lib_lightgbm), used only where ML.NET 5 has no door:
/// continued training needs LightGBM's init_score (the previous model's raw scores), which ML.NET's trainers do not take.
/// </summary>
internal static partial class NativeLightGbm
{
    private const string Library = "lib_lightgbm";
    private const int Float32 = 0;
    private const int Float64 = 1;

    [LibraryImport(Library, EntryPoint = "LGBM_GetLastError")]
    private static partial IntPtr GetLastError();

    [LibraryImport(Library, EntryPoint = "LGBM_DatasetCreateFromMat", StringMarshalling = StringMarshalling.Utf8)]
    private static unsafe partial int DatasetCreateFromMat(float* data, int dataType, int rows, int columns, int rowMajor, string parameters, IntPtr reference, out IntPtr dataset);

    [LibraryImport(Library, EntryPoint = "LGBM_DatasetSetField", StringMarshalling = StringMarshalling.Utf8)]
    private static unsafe partial int DatasetSetField(IntPtr dataset, string field, void* data, int count, int type);

    [LibraryImport(Library, EntryPoint = "LGBM_DatasetFree")]
    private static partial int DatasetFree(IntPtr dataset);

    [LibraryImport(Library, EntryPoint = "LGBM_BoosterCreate", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int BoosterCreate(IntPtr dataset, string parameters, out IntPtr booster);

    [LibraryImport(Library, EntryPoint = "LGBM_BoosterUpdateOneIter")]
    private static partial int BoosterUpdateOneIter(IntPtr booster, out int finished);

    [LibraryImport(Library, EntryPoint = "LGBM_BoosterSaveModelToString")]
    private static unsafe partial int BoosterSaveModelToString(IntPtr booster, int startIteration, int iterations, int importanceType, long bufferLength, out long length, byte* buffer);

    [LibraryImport(Library, EntryPoint = "LGBM_BoosterFree")]
    private static partial int BoosterFree(IntPtr booster);

    /// <summary>
    /// Boosts <c>settings.Iterations</c> new rounds on <paramref name="inputs"/> (row-major, <paramref name="columns"/>
    /// per row) starting from <paramref name="initScore"/> (class-major: all rows' scores of class 0, then class 1, ...),
    /// and returns the new trees as LightGBM model text.
    /// </summary>
    public static unsafe string Continue(float[] inputs, int columns, float[] labels, float[] weights, double[] initScore, int classes, LightGbmSettings settings, int seed, double sigmoid)
    {
        int rows = labels.Length;
        var c = CultureInfo.InvariantCulture;
        string objective = classes == 2 ? $"objective=binary sigmoid={sigmoid.ToString("R", c)}" : $"objective=multiclass num_class={classes}";
        string parameters = string.Create(c,
            $"{objective} num_leaves={settings.Leaves} learning_rate={settings.LearningRate.ToString("R", c)} lambda_l2={settings.L2.ToString("R", c)} min_data_in_leaf={settings.MinDataInLeaf} max_bin={settings.MaxBin} feature_fraction={settings.FeatureFraction.ToString("R", c)} bagging_fraction={settings.BaggingFraction.ToString("R", c)} bagging_freq={(settings.BaggingFraction < 1 ? 1 : 0)} seed={seed} deterministic=true num_threads={settings.ThreadsFor(rows)} verbosity=-1");
        IntPtr dataset = IntPtr.Zero, booster = IntPtr.Zero;
        try
        {
            fixed (float* data = inputs)
            {
                Check(DatasetCreateFromMat(data, Float32, rows, columns, 1, parameters, IntPtr.Zero, out dataset));
            }

            fixed (float* l = labels)
            {
                Check(DatasetSetField(dataset, "label", l, rows, Float32));
            }

            fixed (float* w = weights)
            {
                Check(DatasetSetField(dataset, "weight", w, rows, Float32));
            }

            fixed (double* s = initScore)
            {
                Check(DatasetSetField(dataset, "init_score", s, initScore.Length, Float64));
            }

            Check(BoosterCreate(dataset, parameters, out booster));
            for (int i = 0; i < settings.Iterations; i++)
            {
                Check(BoosterUpdateOneIter(booster, out int finished));
                if (finished != 0)
                {
                    break;
                }
            }

            Check(BoosterSaveModelToString(booster, 0, -1, 0, 0, out long length, null));
            var buffer = new byte[length];
            fixed (byte* b = buffer)
            {
                Check(BoosterSaveModelToString(booster, 0, -1, 0, length, out _, b));
            }

            return Encoding.UTF8.GetString(buffer, 0, (int)Math.Max(0, length - 1));
        }
        finally
        {
            if (booster != IntPtr.Zero)
            {
                _ = BoosterFree(booster);
            }

            if (dataset != IntPtr.Zero)
            {
                _ = DatasetFree(dataset);
            }
        }
    }

    private static void Check(int result)
    {
        if (result != 0)
        {
            throw new InvalidOperationException($"LightGBM: {Marshal.PtrToStringUTF8(GetLastError())}");
        }
    }
}
