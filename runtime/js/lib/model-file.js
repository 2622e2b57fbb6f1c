// The model's metadata_props, read from the file's bytes: onnxruntime's JavaScript API has no
// call for them. An .onnx file is a protobuf ModelProto (decoded by protobufjs); an .ort file is
// a FlatBuffers InferenceSession (read with the flatbuffers runtime). Both libraries load on
// first use, so `predict` never pays for them.

import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

// The part of onnx.proto that holds the metadata, with upstream's field numbers
// (onnx/onnx.proto: ModelProto.ir_version = 1, opset_import = 8, metadata_props = 14;
// OperatorSetIdProto.domain = 1, version = 2; StringStringEntryProto.key = 1, value = 2).
// protobufjs skips every field a schema does not name, such as the graph.
const ONNX_SCHEMA = {
  nested: {
    onnx: {
      nested: {
        StringStringEntryProto: {
          fields: { key: { type: 'string', id: 1 }, value: { type: 'string', id: 2 } },
        },
        OperatorSetIdProto: {
          fields: { domain: { type: 'string', id: 1 }, version: { type: 'int64', id: 2 } },
        },
        ModelProto: {
          fields: {
            irVersion: { type: 'int64', id: 1 },
            opsetImport: { rule: 'repeated', type: 'OperatorSetIdProto', id: 8 },
            metadataProps: { rule: 'repeated', type: 'StringStringEntryProto', id: 14 },
          },
        },
      },
    },
  },
};

let modelProto = null;

function onnxMetadata(bytes) {
  if (modelProto === null) {
    const protobuf = require('protobufjs/light.js');
    modelProto = protobuf.Root.fromJSON(ONNX_SCHEMA).lookupType('onnx.ModelProto');
  }
  const model = modelProto.decode(bytes);
  return Object.fromEntries(model.metadataProps.map((entry) => [entry.key, entry.value]));
}

// ORT format: the FlatBuffers schema onnxruntime/core/flatbuffers/schema/ort.fbs, file identifier
// "ORTM", root table InferenceSession. The vtable slots below are the ones flatc generates for
// it (slot = 4 + 2 × field index): InferenceSession.model is field 1, Model.metadata_props is
// field 9, StringStringEntry.key and .value are fields 0 and 1.
const ORT_IDENTIFIER = 'ORTM';
const SLOT = Object.freeze({ sessionModel: 6, modelMetadataProps: 22, entryKey: 4, entryValue: 6 });

/** Whether `bytes` hold an ORT-format model (FlatBuffers with onnxruntime's file identifier). */
export function isOrtFormat(bytes) {
  return bytes.length >= 8 && String.fromCharCode(...bytes.subarray(4, 8)) === ORT_IDENTIFIER;
}

function ortMetadata(bytes) {
  const { ByteBuffer } = require('flatbuffers');
  const bb = new ByteBuffer(bytes);
  const session = bb.readInt32(bb.position()) + bb.position();
  const modelField = bb.__offset(session, SLOT.sessionModel);
  if (!modelField) return {};
  const model = bb.__indirect(session + modelField);
  const propsField = bb.__offset(model, SLOT.modelMetadataProps);
  if (!propsField) return {};
  const vector = bb.__vector(model + propsField);
  const metadata = {};
  for (let i = 0; i < bb.__vector_len(model + propsField); i++) {
    const entry = bb.__indirect(vector + i * 4);
    const key = bb.__offset(entry, SLOT.entryKey);
    const value = bb.__offset(entry, SLOT.entryValue);
    if (key) metadata[bb.__string(entry + key)] = value ? bb.__string(entry + value) : '';
  }
  return metadata;
}

/** The metadata_props of an .onnx or .ort model's bytes, as an object of strings. */
export function readMetadata(bytes) {
  return isOrtFormat(bytes) ? ortMetadata(bytes) : onnxMetadata(bytes);
}
