"""What users of llm-strategy 2.2.0 meet: the old module paths, the fakes, the adapters, ChatChain's shape."""

import pytest
from langchain_core.language_models import LLM
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage

import llm_strategy
from llm_hyperparameters import Hyperparameters
from llm_strategy import ChatChain, DefinitionError, LLMAsChatModel, llm_function
from llm_strategy.testing import (
    FakeChatModel,
    FakeLLM,
    ModelRequestBlockedError,
    ScriptedChatModel,
    block_model_requests,
)

from .helpers import scripted

pytest_plugins = ["pytester"]


def test_old_module_paths_are_aliases_and_the_package_names_stay_the_decorators():
    from llm_strategy.adapters import ChatModelAsLLM as OldChatModelAsLLM
    from llm_strategy.adapters import LLMAsChatModel as OldLLMAsChatModel
    from llm_strategy.chat_chain import ChatChain as OldChatChain
    from llm_strategy.llm_function import llm_explicit_function as old_explicit
    from llm_strategy.llm_function import llm_function as old_function
    from llm_strategy.llm_strategy import llm_dataclass as old_dataclass
    from llm_strategy.llm_strategy import llm_strategy as old_strategy
    from llm_strategy.testing.fake_chat_model import FakeChatModel as OldFakeChatModel
    from llm_strategy.testing.fake_llm import FakeLLM as OldFakeLLM

    assert old_function is llm_strategy.llm_function is llm_function
    assert old_explicit is llm_strategy.llm_explicit_function
    assert old_strategy is llm_strategy.llm_strategy
    assert old_dataclass is llm_strategy.llm_dataclass
    assert OldChatChain is ChatChain
    assert OldChatModelAsLLM is llm_strategy.ChatModelAsLLM
    assert OldLLMAsChatModel is LLMAsChatModel
    assert OldFakeLLM is FakeLLM and OldFakeChatModel is FakeChatModel


def test_fake_llm_replays_texts_and_honours_stop_words():
    llm = FakeLLM(texts={"foobar"})
    assert llm.invoke("foo") == "bar"
    assert llm.invoke("foo", stop=["a"]) == "b"
    with pytest.raises(NotImplementedError, match="FakeLLM has no text for this prompt; add 'baz'"):
        llm.invoke("baz")


def test_fake_llm_records_what_an_external_model_answers():
    llm = FakeLLM(external_llm=FakeLLM(texts={"Hello, world"}))
    assert llm.invoke("Hello") == ", world"
    assert llm.texts == {"Hello, world"}


def test_fake_chat_model_replays_conversations():
    model = FakeChatModel.from_messages([[SystemMessage("foo"), HumanMessage("bar"), AIMessage("doo")]])
    assert model.invoke([SystemMessage("foo"), HumanMessage("bar")]).text == "doo"
    assert model.invoke([SystemMessage("foo"), HumanMessage("bar")], stop=["o"]).text == "d"
    with pytest.raises(NotImplementedError, match="no conversation that continues"):
        model.invoke([HumanMessage("bar")])
    with pytest.raises(NotImplementedError):
        FakeChatModel().invoke([HumanMessage("bar")])


def test_the_2_2_0_call_shapes_of_the_fakes_and_adapters():
    assert FakeLLM(texts={"foobar"})("foo", stop=["a"]) == "b"
    chat = FakeChatModel.from_messages([[SystemMessage("foo"), HumanMessage("bar"), AIMessage("doo")]])
    assert chat([SystemMessage("foo"), HumanMessage("bar")]) == AIMessage(content="doo")
    llm = FakeLLM(texts={"<|im_start|>user\nHello<|im_end|><|im_start|>assistant\nWorld<|im_end|>"})
    assert LLMAsChatModel(llm=llm)([HumanMessage("Hello")]) == AIMessage(content="World")
    hello = FakeChatModel.from_messages([[HumanMessage("Hello"), AIMessage("World")]])
    assert llm_strategy.ChatModelAsLLM(chat_model=hello)("Hello") == "World"


def test_chat_model_as_llm():
    chat = FakeChatModel.from_messages([[HumanMessage("Hello"), AIMessage("World")]])
    assert llm_strategy.ChatModelAsLLM(chat_model=chat).invoke("Hello") == "World"


def test_llm_as_chat_model_marks_roles_and_stops_at_the_end_of_the_turn():
    llm = FakeLLM(texts={"<|im_start|>user\nHello<|im_end|><|im_start|>assistant\nWorld<|im_end|>"})
    assert LLMAsChatModel(llm=llm).invoke([HumanMessage("Hello")]).text == "World"


def test_chat_chain_on_a_text_model_marks_each_role():
    prompt = (
        "<|im_start|>system\nBe brief.<|im_end|>"
        "<|im_start|>user\nHi<|im_end|>"
        "<|im_start|>assistant\nHello!<|im_end|>"
        "<|im_start|>user\nBye<|im_end|>"
        "<|im_start|>assistant\n"
    )
    llm = FakeLLM(texts={prompt + "See you.<|im_end|>"})
    chain = ChatChain(llm, [SystemMessage("Be brief."), HumanMessage("Hi"), AIMessage("Hello!")])
    reply, _ = chain.query("Bye")
    assert reply == "See you."
    assert isinstance(chain.chat_model, LLMAsChatModel) and chain.chat_model.llm is llm


def test_chat_chain_2_2_0_shape():
    model = scripted("Paris.")
    chain = ChatChain(model, [SystemMessage("Be brief.")])
    assert chain.messages == [SystemMessage("Be brief.")]
    assert chain.chat_model is chain.model is model
    reply, longer = chain.query("Capital of France?", model_args={"stop": ["."]})
    assert reply == "Paris."
    assert longer.messages == [
        SystemMessage("Be brief."),
        HumanMessage("Capital of France?"),
        AIMessage("Paris."),
    ]
    chain.messages.append(HumanMessage("ignored"))  # a copy: the chain is immutable
    assert len(chain.messages) == 1


def test_model_args_reach_the_model():
    seen = []

    class Recording(ScriptedChatModel):
        def _generate(self, messages, stop=None, run_manager=None, **kwargs):
            seen.append((stop, kwargs))
            return super()._generate(messages, stop, run_manager, **kwargs)

    ChatChain(Recording(replies=["ok"])).query("Hi", model_args={"stop": ["\n"], "temperature": 0})
    assert seen == [(["\n"], {"temperature": 0})]


def test_library_settings_have_a_public_handle():
    assert llm_strategy.settings.name == "llm_strategy.settings"
    assert llm_strategy.settings.model is llm_strategy.LLMSettings

    @llm_function
    def double(model, x: int) -> int:
        """Double x."""
        raise NotImplementedError

    hparams = Hyperparameters()
    hparams[llm_strategy.settings].max_attempts = 2
    assert hparams["llm_strategy.settings"].max_attempts == 2
    model = scripted("no", "still no", '{"return_value": 4}')
    with hparams, pytest.raises(llm_strategy.OutputParseError):
        double(model, 2)
    assert len(model.calls) == 2


def make_llm_function(label: str):
    @llm_function
    def classify(model, text: str) -> bool:
        """Whether the text matches."""
        raise NotImplementedError

    return classify


def test_two_llm_functions_from_one_factory_are_refused_with_the_fix():
    first = make_llm_function("spam")
    with pytest.raises(
        DefinitionError, match=r"make_llm_function\.classify: another live function"
    ) as caught:
        make_llm_function("ham")
    assert "__qualname__" in str(caught.value)
    assert first.hyperparameters.owner is first.spec.function


def test_pytest_plugin_fixtures(pytester):
    pytester.makeconftest('pytest_plugins = ["llm_strategy.testing.pytest_plugin"]')
    pytester.makepyfile(
        '''
        import llm_strategy
        from llm_strategy import llm_function

        @llm_function
        def add(model, a: int, b: int) -> int:
            """Add."""
            raise NotImplementedError

        def test_scripted(scripted_model):
            model = scripted_model('{"return_value": 3}')
            assert add(model, 1, 2) == 3

        def test_synthetic(synthetic_model):
            assert isinstance(add(synthetic_model, 1, 2), int)
            assert len(synthetic_model.calls) == 1

        def test_isolated_first(isolated_hyperparameters):
            isolated_hyperparameters[llm_strategy.settings].max_attempts = 7
            assert llm_strategy.settings.in_force().max_attempts == 7

        def test_isolated_second():
            assert llm_strategy.settings.in_force().max_attempts == 3
        '''
    )
    pytester.runpytest(
        "-p", "no:cacheprovider", "-o", "asyncio_default_fixture_loop_scope=function"
    ).assert_outcomes(passed=4)


class EchoLLM(LLM):
    """A text model that is not a test model: under `block_model_requests` it must not be reached."""

    @property
    def _llm_type(self) -> str:
        return "echo"

    def _call(self, prompt, stop=None, run_manager=None, **kwargs):
        return prompt


def test_adapters_and_fakes_pass_on_blocked_requests_of_the_model_they_wrap():
    with block_model_requests():
        with pytest.raises(ModelRequestBlockedError, match=r"EchoLLM"):
            ChatChain(EchoLLM()).query("Hi")
        with pytest.raises(ModelRequestBlockedError, match=r"EchoLLM"):
            FakeLLM(external_llm=EchoLLM()).invoke("Hi")
        assert (
            ChatChain(FakeLLM(texts={"<|im_start|>user\nHi<|im_end|><|im_start|>assistant\nHo"})).query("Hi")[
                0
            ]
            == "Ho"
        )
