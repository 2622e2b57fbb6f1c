// Imported first by the command-line tool, so that its handlers are in place before
// onnxruntime-node loads: SIGINT exits 130 with "Interrupted.", SIGTERM 143 with "Terminated.",
// one line on stderr and no stack trace, as the Python CLI does.

function onSignal(message, code) {
  return () => {
    process.stderr.write(`${message}\n`);
    process.exit(code);
  };
}

process.on('SIGINT', onSignal('Interrupted.', 130));
process.on('SIGTERM', onSignal('Terminated.', 143));
