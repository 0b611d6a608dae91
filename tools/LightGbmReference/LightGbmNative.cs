using System.Runtime.InteropServices;

namespace Stakeout.Tools.LightGbmReference;

/// <summary>The few functions of LightGBM's C API (c_api.h) the generator needs.</summary>
internal static unsafe partial class LightGbmNative
{
    private const string Lib = "lib_lightgbm";
    private const int Float32 = 0;
    private const int Float64 = 1;

    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int LGBM_DatasetCreateFromMat(void* data, int dataType, int nrow, int ncol, int isRowMajor, string parameters, nint reference, out nint dataset);

    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int LGBM_DatasetSetField(nint dataset, string field, void* data, int count, int type);

    [LibraryImport(Lib)]
    private static partial int LGBM_DatasetFree(nint dataset);

    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int LGBM_BoosterCreate(nint train, string parameters, out nint booster);

    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int LGBM_BoosterLoadModelFromString(string model, out int iterations, out nint booster);

    [LibraryImport(Lib)]
    private static partial int LGBM_BoosterUpdateOneIter(nint booster, out int finished);

    [LibraryImport(Lib)]
    private static partial int LGBM_BoosterSaveModelToString(nint booster, int start, int count, int importanceType, long bufferLength, out long length, byte* buffer);

    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int LGBM_BoosterPredictForMat(nint booster, void* data, int dataType, int nrow, int ncol, int isRowMajor, int predictType, int start, int count, string parameters, out long length, double* result);

    [LibraryImport(Lib)]
    private static partial int LGBM_BoosterFree(nint booster);

    [LibraryImport(Lib)]
    private static partial nint LGBM_GetLastError();

    [LibraryImport(Lib)]
    private static partial int LGBM_BoosterGetNumClasses(nint booster, out int classes);

    /// <summary>Outputs per row of a raw prediction (1 for binary).</summary>
    public static int Classes(nint booster)
    {
        Check(LGBM_BoosterGetNumClasses(booster, out int k));
        return k;
    }

    /// <summary>Trains a booster on row-major float rows.</summary>
    public static nint Train(float[] rows, int ncol, float[] labels, string parameters, int iterations)
    {
        nint dataset;
        fixed (float* p = rows)
        {
            Check(LGBM_DatasetCreateFromMat(p, Float32, labels.Length, ncol, 1, parameters, 0, out dataset));
        }

        fixed (float* l = labels)
        {
            Check(LGBM_DatasetSetField(dataset, "label", l, labels.Length, Float32));
        }

        Check(LGBM_BoosterCreate(dataset, parameters, out nint booster));
        for (int i = 0; i < iterations; i++)
        {
            Check(LGBM_BoosterUpdateOneIter(booster, out int finished));
            if (finished != 0)
            {
                break;
            }
        }

        Check(LGBM_DatasetFree(dataset));
        return booster;
    }

    public static nint Load(string model)
    {
        Check(LGBM_BoosterLoadModelFromString(model, out _, out nint booster));
        return booster;
    }

    public static string Save(nint booster)
    {
        Check(LGBM_BoosterSaveModelToString(booster, 0, -1, 0, 0, out long length, null));
        var buffer = new byte[length];
        fixed (byte* b = buffer)
        {
            Check(LGBM_BoosterSaveModelToString(booster, 0, -1, 0, length, out _, b));
        }

        return System.Text.Encoding.UTF8.GetString(buffer, 0, (int)length - 1);
    }

    /// <summary>predictType: 0 probabilities, 1 raw score, 3 SHAP contributions (per class: ncol values then the bias).</summary>
    public static double[] Predict(nint booster, double[] rows, int ncol, int predictType, int outputsPerRow)
    {
        int nrow = rows.Length / ncol;
        var result = new double[nrow * outputsPerRow];
        fixed (double* p = rows)
        fixed (double* r = result)
        {
            Check(LGBM_BoosterPredictForMat(booster, p, Float64, nrow, ncol, 1, predictType, 0, -1, "num_threads=1", out long length, r));
            if (length != result.Length)
            {
                throw new InvalidOperationException($"LightGBM wrote {length} outputs, {result.Length} expected.");
            }
        }

        return result;
    }

    public static void Free(nint booster) => Check(LGBM_BoosterFree(booster));

    private static void Check(int status)
    {
        if (status != 0)
        {
            throw new InvalidOperationException("LightGBM: " + Marshal.PtrToStringUTF8(LGBM_GetLastError()));
        }
    }
}
