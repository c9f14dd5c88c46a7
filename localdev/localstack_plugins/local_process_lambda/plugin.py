"""The plux plugin that makes the executor selectable with LAMBDA_RUNTIME_EXECUTOR=local-process."""
from localstack.services.lambda_.invocation.plugins import RuntimeExecutorPlugin

PLUGIN_NAME = "local-process"


class LocalProcessExecutorPlugin(RuntimeExecutorPlugin):
    name = PLUGIN_NAME

    def load(self, *args, **kwargs):
        # Imported lazily, like LocalStack's own Docker executor plugin.
        from local_process_lambda.executor import LocalProcessRuntimeExecutor

        return LocalProcessRuntimeExecutor
