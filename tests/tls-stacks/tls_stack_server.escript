%% An Erlang/OTP ssl server for tests/support/tls_stacks.rs: serves one
%% certificate on 127.0.0.1 with the ssl options term that
%% `tls-policy render --for erlang` printed.
%%
%% Usage: escript tls_stack_server.escript PORT CERT.pem KEY.pem OPTIONS
%%
%% OPTIONS holds the render: one list of ssl options (`[{versions, ...},
%% {ciphers, [#{...}]}, {eccs, [...]}].`) or the options one per term;
%% `%` comments are fine. ssl:listen refuses an option it does not know,
%% so a malformed render fails here. Prints "LISTENING <port>" once bound.
main([Port, Cert, Key, OptionsFile]) ->
    {ok, _} = application:ensure_all_started(ssl),
    Policy = case file:consult(OptionsFile) of
        {ok, [Options]} when is_list(Options) -> Options;
        {ok, Options} -> Options;
        {error, Reason} ->
            io:format(standard_error, "cannot read ~s: ~s~n",
                      [OptionsFile, file:format_error(Reason)]),
            halt(2)
    end,
    Base = [{ip, {127, 0, 0, 1}}, {reuseaddr, true}, {active, false},
            {certfile, Cert}, {keyfile, Key}],
    case ssl:listen(list_to_integer(Port), Base ++ Policy) of
        {ok, Listen} ->
            io:format("policy options: ~p~nLISTENING ~s~n", [Policy, Port]),
            accept(Listen);
        {error, Error} ->
            io:format(standard_error, "ssl:listen refused the options: ~p~n", [Error]),
            halt(1)
    end;
main(_) ->
    io:format(standard_error, "usage: tls_stack_server.escript PORT CERT KEY OPTIONS~n", []),
    halt(2).

accept(Listen) ->
    {ok, Socket} = ssl:transport_accept(Listen),
    Worker = spawn(fun() -> receive go -> serve(Socket) end end),
    ok = ssl:controlling_process(Socket, Worker),
    Worker ! go,
    accept(Listen).

serve(Socket) ->
    case ssl:handshake(Socket, 10000) of
        {ok, Tls} ->
            ssl:send(Tls, <<"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nnightwatch-testkit erlang\n">>),
            ssl:close(Tls);
        {error, _Refused} ->
            %% A refused handshake is what the scanner's probes are for.
            ok
    end.
