import type { InferenceSession } from 'onnxruntime-node';

/**
 * Exit codes of the fclf-edge command, the same as the Python CLI's (both read them from
 * runtime/messages.json): 130 after Ctrl-C (SIGINT), 143 after SIGTERM.
 */
export declare const EXIT: Readonly<{
  ok: 0;
  mismatch: 1;
  usage: 2;
  model: 3;
  write: 6;
  interrupted: 130;
  terminated: 143;
}>;

/** -459.67: absolute zero in °F, the lowest valid input (compared as float32). */
export declare const ABSOLUTE_ZERO_F: number;
/** float32(-459.67), the low end of the verified domain. */
export declare const DOMAIN_LOW: number;
/** 10,000 °F, the top of the verified domain. */
export declare const DOMAIN_HIGH: number;

/** Base of every error the package raises on purpose. */
export declare class FclfError extends Error {
  /** The exit code the command-line tool maps this error to. */
  readonly exitCode: number;
}

/** A value is not a usable Fahrenheit temperature. */
export declare class InvalidInputError extends FclfError {
  /** 0-based position of the first bad element, when known. */
  readonly index: number | null;
  /** 1-based line number in an input file, when known. */
  readonly line: number | null;
  /** The offending value, when known. */
  readonly value: unknown;
}

/** A model file is missing, unreadable, corrupt or not an fclf-edge model. */
export declare class ModelError extends FclfError {}

/** A model disagrees with the formula. */
export declare class MismatchError extends FclfError {}

/** An output could not be written (disk full, I/O error). */
export declare class WriteError extends FclfError {
  readonly path: string;
  readonly reason: string;
}

/**
 * Temperatures in °F: numbers, bigints, or one-element arrays (an n × 1 column). Each is
 * rounded to float32 first (Math.fround), as the model sees it: 32.000001 is float32 32.0 and is
 * labelled 0, though the formula on the exact decimal says 1; every value in
 * (32, 32 + 2**-19] = (32, 32.0000019073486328125] is. 3.4028235e38 is float32's largest value
 * (valid); a value overflows only when Math.fround gives ±Infinity (|x| >= 2**128 - 2**103).
 */
export type Values = ArrayLike<number | bigint | readonly [number]> | Iterable<number | bigint>;

export interface LoadOptions {
  /** onnxruntime intra-op threads (default 1: a five-op graph gains nothing from more). */
  threads?: number;
}

export interface Prediction {
  /** 1 = above freezing, 0 = at or below, in input order. */
  labels: number[];
  /** Probability of "above freezing" (float32 values; 0.5 at the boundary). */
  probabilities: number[];
}

/** Classify Fahrenheit temperatures as above freezing (1) or not (0). */
export declare class Classifier {
  private constructor();
  /** Load an .onnx or .ort model; no path loads the bundled model. Throws ModelError. */
  static load(path?: string | null, options?: LoadOptions): Promise<Classifier>;
  /** The model file's path. */
  readonly path: string;
  /** The model's metadata_props (units, boundary_fahrenheit, weight, training_config, ...). */
  readonly metadata: Readonly<Record<string, string>>;
  /** The learned boundary in °F (label 1 above it), from the metadata; null if absent. */
  readonly boundary: number | null;
  /** 'ort' for an ORT-format model, else 'onnx'. */
  readonly format: 'onnx' | 'ort';
  /** Model file size in bytes. */
  readonly size: number;
  /** The model file's bytes. */
  readonly bytes: Uint8Array;
  /** The underlying onnxruntime session. */
  readonly session: InferenceSession;
  /**
   * Labels in input order: 1 = above freezing, 0 = at or below, for each value rounded to
   * float32 (so 32.000001 gives 0: see `Values`). Throws InvalidInputError (`.index` names the
   * first bad element) for NaN, infinities, text, values below absolute zero (float32(-459.67))
   * or rounding to infinity as float32.
   */
  predict(value: number | bigint): Promise<number>;
  predict(values: Values): Promise<number[]>;
  /** Probabilities of "above freezing". Throws as `predict`. */
  predictProba(value: number | bigint): Promise<number>;
  predictProba(values: Values): Promise<number[]>;
  /** Labels and probabilities from one run. Throws as `predict`. */
  predictWithProba(values: number | bigint | Values): Promise<Prediction>;
  /** Run an already validated batch (no checks): raw int64 labels and float32 probabilities. */
  predictBatch(
    batch: Float32Array,
    options?: { proba?: boolean },
  ): Promise<{ labels: BigInt64Array; probabilities: Float32Array | null }>;
  /** Free the onnxruntime session. */
  release(): Promise<void>;
}

/** The bundled model's absolute path. */
export declare function defaultModelPath(): string;

/**
 * Why one number is not a valid °F input, or null if it is: NaN, an infinity, a value that
 * rounds to infinity as float32, or one whose float32 is below float32(-459.67). The words are
 * the catalogue's (runtime/messages.json), the Python runtime's too.
 */
export declare function problemWith(value: number): string | null;

export interface VerifyOptions {
  /** Range in °F (default: float32(-459.67) to 10000). */
  low?: number;
  high?: number;
  /** Check every float32 in [low, high]; otherwise `samples` random values. */
  exhaustive?: boolean;
  samples?: number;
  seed?: number;
  /** Check against F > this value instead of C = (F - 32) / 1.8 > 0. */
  ruleThreshold?: number | null;
  /** Worker threads, each with its own onnxruntime session (default: cores, at most 4). */
  workers?: number;
  /** Called with the number of values checked after each chunk. */
  onProgress?: ((checked: number) => void) | null;
}

export interface VerifyReport {
  checked: number;
  mismatches: number;
  /** Steps where the probability falls as x rises, and labels on the wrong side of 0.5. */
  probabilityViolations: number;
  /** The first mismatches: [x, model's label, formula's label]. */
  first: Array<[number, number, number]>;
  /** The lowest and highest input the model gets wrong; null when none. */
  wrongSpan: [number, number] | null;
  seconds: number;
  low: number;
  high: number;
  mode: string;
  rule: string;
}

/** Compare a model's labels with the formula on float32 values; see VerifyOptions. */
export declare function verify(
  classifier: Classifier,
  options?: VerifyOptions,
): Promise<VerifyReport>;
