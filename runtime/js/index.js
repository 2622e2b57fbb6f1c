// fclf-edge for Node: classify Fahrenheit temperatures as above freezing (1) or not (0) with the
// fclf-edge ONNX model and onnxruntime-node.
//
//   import { Classifier } from 'fclf-edge';
//   const classifier = await Classifier.load(); // the bundled model, or Classifier.load('m.onnx')
//   await classifier.predict([33, 32, -40]); // [1, 0, 0]

export { Classifier, defaultModelPath } from './lib/classifier.js';
export {
  EXIT,
  FclfError,
  InvalidInputError,
  MismatchError,
  ModelError,
  WriteError,
} from './lib/errors.js';
export { ABSOLUTE_ZERO_F, DOMAIN_HIGH, DOMAIN_LOW } from './lib/floats.js';
export { problemWith } from './lib/validate.js';
export { verify } from './lib/verify.js';
