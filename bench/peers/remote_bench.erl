%% bench/peers/remote_bench.erl: Erlang/OTP's distribution doing what
%% bench/cluster_remote.c does with casty, for a side-by-side figure: two
%% nodes on loopback, node b with a sink process (counts and sums) and an
%% echo process, node a sending from its main process.
%%
%%   erl -noshell -name b@127.0.0.1 -setcookie casty-bench -pa DIR \
%%       -run remote_bench serve
%%   erl -noshell -name a@127.0.0.1 -setcookie casty-bench -pa DIR \
%%       -run remote_bench main b@127.0.0.1 [MESSAGES]
%%
%% main prints the lines the casty program prints:
%%   BENCH remote-tell msgs=N seconds=S msgs_per_sec=R
%%   remote_ask_p50_us X us
%%   remote_ask_p99_us X us
%% and then stops node b.
-module(remote_bench).
-export([serve/0, main/1]).

-define(WINDOW, 100000).
-define(ASKS, 20000).
-define(TIMEOUT, 60000).

serve() ->
    register(sink, spawn(fun() -> sink(0, 0) end)),
    register(echo, spawn(fun echo/0)),
    receive stop -> ok end.

sink(Count, Sum) ->
    receive
        {add, N} -> sink(Count + 1, Sum + N);
        {stats, From, Ref} -> From ! {Ref, Count, Sum}, sink(Count, Sum)
    end.

echo() ->
    receive
        {ping, From, Ref, N} -> From ! {Ref, N}, echo()
    end.

%% Waits for node b and its sink, bounded by the timeout.
find(Node, Name, Deadline) ->
    case net_adm:ping(Node) =:= pong andalso
         rpc:call(Node, erlang, whereis, [Name]) of
        Pid when is_pid(Pid) -> Pid;
        _ ->
            case erlang:monotonic_time(millisecond) > Deadline of
                true -> fail("node b did not start");
                false -> timer:sleep(50), find(Node, Name, Deadline)
            end
    end.

fail(What) ->
    io:format(standard_error, "CHECK FAILED remote-tell: ~s~n", [What]),
    halt(1).

stats(Sink) ->
    Ref = make_ref(),
    Sink ! {stats, self(), Ref},
    receive {Ref, Count, Sum} -> {Count, Sum}
    after ?TIMEOUT -> fail("stats timed out")
    end.

tell(_Sink, I, N) when I > N -> ok;
tell(Sink, I, N) ->
    Sink ! {add, I},
    case I rem ?WINDOW of
        0 -> stats(Sink);
        _ -> ok
    end,
    tell(Sink, I + 1, N).

ask(_Echo, I, Acc) when I >= ?ASKS -> Acc;
ask(Echo, I, Acc) ->
    Ref = make_ref(),
    T0 = erlang:monotonic_time(nanosecond),
    Echo ! {ping, self(), Ref, I},
    receive {Ref, I} -> ok
    after ?TIMEOUT -> fail("ask timed out")
    end,
    T1 = erlang:monotonic_time(nanosecond),
    ask(Echo, I + 1, [(T1 - T0) / 1000 | Acc]).

main([NodeText]) -> main([NodeText, "2000000"]);
main([NodeText, MsgsText]) ->
    Node = list_to_atom(NodeText),
    N = list_to_integer(MsgsText),
    Deadline = erlang:monotonic_time(millisecond) + ?TIMEOUT,
    Sink = find(Node, sink, Deadline),
    Echo = find(Node, echo, Deadline),
    T0 = erlang:monotonic_time(nanosecond),
    tell(Sink, 1, N),
    {Count, Sum} = stats(Sink),
    Secs = (erlang:monotonic_time(nanosecond) - T0) / 1.0e9,
    Count =:= N orelse fail("count"),
    Sum =:= N * (N + 1) div 2 orelse fail("sum"),
    io:format("BENCH remote-tell msgs=~b seconds=~.6f msgs_per_sec=~b~n",
              [N, Secs, round(N / Secs)]),
    Lat = list_to_tuple(lists:sort(ask(Echo, 0, []))),
    io:format("remote_ask_p50_us ~.2f us~n", [element(?ASKS div 2 + 1, Lat)]),
    io:format("remote_ask_p99_us ~.2f us~n",
              [element(?ASKS * 99 div 100 + 1, Lat)]),
    ok = rpc:call(Node, init, stop, []),
    halt(0).
