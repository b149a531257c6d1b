"""A tiny stand-in for the Pepper-Box plugin (not on Maven Central): a jar with its class names,
built with javac against the assembled JMeter. Its sampler reports the broker and topic it was given."""

from __future__ import annotations

import subprocess
from pathlib import Path

from orchestrator.artifacts.jmeter import ensure_jmeter

STAND_IN = """package com.gslab.pepper.sampler;

import org.apache.jmeter.protocol.java.sampler.AbstractJavaSamplerClient;
import org.apache.jmeter.protocol.java.sampler.JavaSamplerContext;
import org.apache.jmeter.samplers.SampleResult;

/** Stands in for Pepper-Box's sampler: reports the broker and topic it was given. */
public class PepperBoxKafkaSampler extends AbstractJavaSamplerClient {
    @Override
    public SampleResult runTest(JavaSamplerContext context) {
        SampleResult result = new SampleResult();
        result.sampleStart();
        try {
            Thread.sleep(100);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        result.sampleEnd();
        result.setSuccessful(true);
        result.setResponseMessage("to " + context.getParameter("bootstrap.servers") + " topic " + context.getParameter("kafka.topic.name"));
        return result;
    }
}
"""
STAND_IN_ELEMENT = """package com.gslab.pepper.{package};

public class {name} extends org.apache.jmeter.{base} {{
}}
"""


def build_pepper_box_jar(src: Path) -> Path:
    """The stand-in jar, built in the empty directory ``src``."""
    home = ensure_jmeter()
    sources = {"com/gslab/pepper/sampler/PepperBoxKafkaSampler.java": STAND_IN}
    for package, name, base in (("config.plaintext", "PlainTextConfigElement", "config.ConfigTestElement"),
                                ("config.serialized", "SerializedConfigElement", "config.ConfigTestElement"),
                                ("model", "FieldExpressionMapping", "testelement.AbstractTestElement")):
        path = f"com/gslab/pepper/{package.replace('.', '/')}/{name}.java"
        sources[path] = STAND_IN_ELEMENT.format(package=package, name=name, base=base)
    for rel, text in sources.items():
        (src / rel).parent.mkdir(parents=True, exist_ok=True)
        (src / rel).write_text(text)
    classpath = f"{home}/lib/*:{home}/lib/ext/*"
    out = src / "classes"
    subprocess.run(["javac", "-nowarn", "-d", str(out), "-cp", classpath, *map(str, src.rglob("*.java"))], check=True, timeout=120)
    jar = src / "pepper-box-stand-in.jar"
    subprocess.run(["jar", "cf", str(jar), "-C", str(out), "."], check=True, timeout=60)
    return jar
