"""JMeter interop: install JMeter from Maven Central, inspect and import existing JMX files,
resolve plugin jars. Rendering lives in orchestrator.render, running in orchestrator.execute.taurus."""
