//! The environment scripts see, compared with Redis 7.0.15: globals,
//! libraries, read-only tables, built-ins, conversions of odd values.

use super::*;

#[test]
fn environment_matches_redis() {
    // Recorded from Redis 7.0.15.
    let cases: &[(&str, &[u8])] = &[
        ("local n = 0 for k, v in pairs(redis) do n = n + 1 end return n", b":23\r\n"),
        ("local n = 0 for k, v in pairs(math) do n = n + 1 end return n", b":31\r\n"),
        ("local t = {} for k in pairs(string) do t[#t+1] = k end table.sort(t) return t", b"*15\r\n$4\r\nbyte\r\n$4\r\nchar\r\n$4\r\ndump\r\n$4\r\nfind\r\n$6\r\nformat\r\n$5\r\ngfind\r\n$6\r\ngmatch\r\n$4\r\ngsub\r\n$3\r\nlen\r\n$5\r\nlower\r\n$5\r\nmatch\r\n$3\r\nrep\r\n$7\r\nreverse\r\n$3\r\nsub\r\n$5\r\nupper\r\n"),
        ("local t = {} for k in pairs(_G) do t[#t+1] = k end table.sort(t) return t", b"*35\r\n$4\r\nARGV\r\n$4\r\nKEYS\r\n$2\r\n_G\r\n$8\r\n_VERSION\r\n$21\r\n__redis__err__handler\r\n$6\r\nassert\r\n$3\r\nbit\r\n$5\r\ncjson\r\n$8\r\ncmsgpack\r\n$14\r\ncollectgarbage\r\n$9\r\ncoroutine\r\n$5\r\nerror\r\n$6\r\ngcinfo\r\n$12\r\ngetmetatable\r\n$6\r\nipairs\r\n$4\r\nload\r\n$10\r\nloadstring\r\n$4\r\nmath\r\n$4\r\nnext\r\n$5\r\npairs\r\n$5\r\npcall\r\n$8\r\nrawequal\r\n$6\r\nrawget\r\n$6\r\nrawset\r\n$5\r\nredis\r\n$6\r\nselect\r\n$12\r\nsetmetatable\r\n$6\r\nstring\r\n$6\r\nstruct\r\n$5\r\ntable\r\n$8\r\ntonumber\r\n$8\r\ntostring\r\n$4\r\ntype\r\n$6\r\nunpack\r\n$6\r\nxpcall\r\n"),
        ("local t = {} for k in pairs(cjson) do t[#t+1] = k end table.sort(t) return t", b"*13\r\n$5\r\n_NAME\r\n$8\r\n_VERSION\r\n$6\r\ndecode\r\n$22\r\ndecode_invalid_numbers\r\n$16\r\ndecode_max_depth\r\n$6\r\nencode\r\n$22\r\nencode_invalid_numbers\r\n$18\r\nencode_keep_buffer\r\n$16\r\nencode_max_depth\r\n$23\r\nencode_number_precision\r\n$19\r\nencode_sparse_array\r\n$3\r\nnew\r\n$4\r\nnull\r\n"),
        ("local t = {} for k in pairs(table) do t[#t+1] = k end table.sort(t) return t", b"*9\r\n$6\r\nconcat\r\n$7\r\nforeach\r\n$8\r\nforeachi\r\n$4\r\ngetn\r\n$6\r\ninsert\r\n$4\r\nmaxn\r\n$6\r\nremove\r\n$4\r\nsetn\r\n$4\r\nsort\r\n"),
        ("return next(bit) ~= nil", b":1\r\n"),
        ("return rawget(math, 'floor') == math.floor", b":1\r\n"),
        ("return type(getmetatable(math))", b"$3\r\nnil\r\n"),
        ("return type(getmetatable(_G))", b"$5\r\ntable\r\n"),
        ("return type(getmetatable(_G).__index)", b"$8\r\nfunction\r\n"),
        ("getmetatable(_G).__index = nil", b"-ERR user_script:1: Attempt to modify a readonly table script: 1ec4f48ee3d02bfee5da8ba9aeab8a503d3032f1, on @user_script:1.\r\n"),
        ("local t = {} table.insert(t, 1) table.insert(t, 1, 0) return t", b"*2\r\n:0\r\n:1\r\n"),
        ("table.insert({}, 1, 2, 3)", b"-ERR user_script:1: wrong number of arguments to 'insert' script: bc556108a0eea9b424d1918ebc52dff0f4bb3ac3, on @user_script:1.\r\n"),
        ("table.insert({}, 'x', 2)", b"-ERR user_script:1: bad argument #2 to 'insert' (number expected, got string) script: 9d82b047626c0a958fcdcd93d51a665250f84f51, on @user_script:1.\r\n"),
        ("table.insert(1, 2)", b"-ERR user_script:1: bad argument #1 to 'insert' (table expected, got number) script: 3293ec04c78463003cc1a0cb7763f151bf2caa50, on @user_script:1.\r\n"),
        ("return setmetatable({}, {__index = function() return 5 end}).x", b":5\r\n"),
        ("setmetatable({}, 1)", b"-ERR user_script:1: bad argument #2 to 'setmetatable' (nil or table expected) script: 776d36312459124e28579bc808b73b75f7c90f53, on @user_script:1.\r\n"),
        ("setmetatable(setmetatable({}, {__metatable = 1}), {})", b"-ERR user_script:1: cannot change a protected metatable script: 184b6cc12ad287ece5356fd54b04d1d60b9a64a3, on @user_script:1.\r\n"),
        ("rawset({}, 1)", b"-ERR user_script:1: bad argument #3 to 'rawset' (value expected) script: 6b4f029d043730f4844e516c10df0b262d48a943, on @user_script:1.\r\n"),
        ("rawset(math, 'x', 1)", b"-ERR Attempt to modify a readonly table script: 9089e2f3beae548aa4b292e84b97090dc1834c43, on @user_script:1.\r\n"),
        ("return rawget(_G, 'KEYS') ~= nil", b":1\r\n"),
        ("return ('abc'):upper()", b"$3\r\nABC\r\n"),
        ("return string.format('%5.2f|%d|%s|%q', 3.14159, 42, 'x', 'a\\nb')", b"$17\r\n 3.14|42|x|\"a\\\nb\"\r\n"),
        ("return tostring(1e15) .. ' ' .. tostring(1e16) .. ' ' .. tostring(0.1) .. ' ' .. tostring(-0)", b"$18\r\n1e+15 1e+16 0.1 -0\r\n"),
        ("return _VERSION", b"$7\r\nLua 5.1\r\n"),
        ("return type(coroutine.create)", b"$8\r\nfunction\r\n"),
        ("return type(newproxy)", b"-ERR user_script:1: Script attempted to access nonexistent global variable 'newproxy' script: 2db8cbf73e97a4b7d8d1a7ce472bf57302f0f369, on @user_script:1.\r\n"),
        ("return type(gcinfo())", b"$6\r\nnumber\r\n"),
        ("return loadstring('return 1+1')()", b":2\r\n"),
        ("return select('#', unpack({1,2,3}))", b":3\r\n"),
        ("return type(os)", b"-ERR user_script:1: Script attempted to access nonexistent global variable 'os' script: 88bfcb2247db0b6fa4925f3cddc3fd0651459f99, on @user_script:1.\r\n"),
        ("return type(io)", b"-ERR user_script:1: Script attempted to access nonexistent global variable 'io' script: 918bbded8bab006be53c3db116d9c93508fc799a, on @user_script:1.\r\n"),
        ("return type(require)", b"-ERR user_script:1: Script attempted to access nonexistent global variable 'require' script: a10ff9bcfafac54cee41502b0e65e31ab05862c3, on @user_script:1.\r\n"),
        ("return type(module)", b"-ERR user_script:1: Script attempted to access nonexistent global variable 'module' script: ec1c6cc4fb3e3178e6b741a3338324a32a935d97, on @user_script:1.\r\n"),
        ("return type(package)", b"-ERR user_script:1: Script attempted to access nonexistent global variable 'package' script: 9d2e094dbe8b2fe1613bf6e8e2abe7b98d1569b8, on @user_script:1.\r\n"),
        ("return type(debug)", b"-ERR user_script:1: Script attempted to access nonexistent global variable 'debug' script: 21bcbd6f0f3639ee18732cb6907e65a4859b9625, on @user_script:1.\r\n"),
        ("return type(dofile)", b"-ERR user_script:1: Script attempted to access nonexistent global variable 'dofile' script: f14b399205539f5db37113032a1a25c72b8c6743, on @user_script:1.\r\n"),
        ("return type(collectgarbage)", b"$8\r\nfunction\r\n"),
        ("return tostring(tonumber('0x10'))", b"$2\r\n16\r\n"),
        ("return math.floor(-3.5) .. ' ' .. math.huge", b"$6\r\n-4 inf\r\n"),
        ("local ok, err = pcall(function() error({err='X'}) end) return {tostring(ok), err}", b"*2\r\n$5\r\nfalse\r\n$1\r\nX\r\n"),
        ("local ok, err = pcall(function() error({foo='X'}) end) return {tostring(ok), type(err)}", b"*2\r\n$5\r\nfalse\r\n$5\r\ntable\r\n"),
        ("local ok, err = pcall(function() error('plain') end) return {tostring(ok), err}", b"*2\r\n$5\r\nfalse\r\n$20\r\nuser_script:1: plain\r\n"),
        ("return {xpcall(function() error('e') end, function(m) return 'handled: ' .. m end)}", b"*2\r\n$-1\r\n$25\r\nhandled: user_script:1: e\r\n"),
        ("return {pcall(redis.call, 'ping', {})}", b"*2\r\n$-1\r\n$63\r\nERR Lua redis lib command arguments must be strings or integers\r\n"),
        ("return redis.pcall('ping', nil)", b"-ERR Lua redis lib command arguments must be strings or integers\r\n"),
        ("return redis.call('echo', 12345678901234567890)", b"$22\r\n1.2345678901234567e+19\r\n"),
        ("return redis.call('echo', -0.0)", b"$2\r\n-0\r\n"),
        ("return redis.call('echo', 1/0)", b"$3\r\ninf\r\n"),
        ("return redis.call('echo', 2^53)", b"$16\r\n9007199254740992\r\n"),
        ("return {err='bad\\r\\nline'}", b"-bad  line\r\n"),
        ("return {ok='a\\0b'}", b"+a\r\n"),
        ("return {err='a\\0b'}", b"-a\r\n"),
        ("return {1, {err='x'}, {ok='y'}}", b"*3\r\n:1\r\n-x\r\n+y\r\n"),
        ("return {double=0/0}", b"$4\r\n-nan\r\n"),
        ("return {double='x'}", b"*0\r\n"),
        ("return {double=1e300}", b"$23\r\n1.0000000000000001e+300\r\n"),
        ("return {big_number='1\\r\\n2'}", b"$4\r\n1  2\r\n"),
        ("return {verbatim_string={format='markdown', string='x'}}", b"$1\r\nx\r\n"),
        ("return {verbatim_string={format='', string='x'}}", b"$1\r\nx\r\n"),
        ("return {verbatim_string={string='x'}}", b"*0\r\n"),
        ("return {map={}}", b"*0\r\n"),
        ("return {set={}}", b"*0\r\n"),
        ("return {map={[1]=true, x={1,2}}}", b"*4\r\n:1\r\n:1\r\n$1\r\nx\r\n*2\r\n:1\r\n:2\r\n"),
        ("return {ok=1}", b"*0\r\n"),
        ("return 2^63", b":-9223372036854775808\r\n"),
        ("return -2^63", b":-9223372036854775808\r\n"),
        ("return 0/0", b":-9223372036854775808\r\n"),
        ("return 1/0", b":-9223372036854775808\r\n"),
        ("return {false, true, 1}", b"*3\r\n$-1\r\n:1\r\n:1\r\n"),
        ("return coroutine.wrap(function() return 5 end)()", b":5\r\n"),
        ("local s = 0 for i = 1, 1000000 do s = s + i end return s", b":500000500000\r\n"),
        ("return string.rep('ab', 3, ',')", b"$6\r\nababab\r\n"),
        ("return #string.rep('a', 1000000)", b":1000000\r\n"),
        ("redis.log(redis.LOG_WARNING, 'from', 'a', 'script', 1, {}) return 1", b":1\r\n"),
        ("return redis.setresp(2)", b"$-1\r\n"),
        ("return {redis.setresp(3), redis.call('ping')}", b"*0\r\n"),
        ("error()", b"-ERR nil script: aca90d914519fdb9825352bdc0befb59f7c8510f, on @user_script:1.\r\n"),
        ("local t = setmetatable({}, {__index = function(t, k) error('idx') end}) return t.x", b"-ERR user_script:1: idx script: d3e7bc303035d176a344ccb681da86211723e194, on @user_script:1.\r\n"),
        ("return tostring(redis.call == redis.pcall)", b"$5\r\nfalse\r\n"),
        ("return redis.call('ECHO', 'x')", b"$1\r\nx\r\n"),
        ("return math.max(1, 2, 3) + math.min(4, 5)", b":7\r\n"),
        ("return tostring(math.pi)", b"$15\r\n3.1415926535898\r\n"),
        ("return tostring(2^0.5)", b"$15\r\n1.4142135623731\r\n"),
        ("return string.byte('A') + #'hello'", b":70\r\n"),
        ("return table.concat({1, 2, 'x'}, '-')", b"$5\r\n1-2-x\r\n"),
        ("return string.find('hello world', 'o w')", b":5\r\n"),
        ("return {string.gsub('hello', 'l', 'L')}", b"*2\r\n$5\r\nheLLo\r\n:2\r\n"),
        ("return string.sub('hello', -3)", b"$3\r\nllo\r\n"),
        ("return string.len(string.char(0, 1, 2))", b":3\r\n"),
        ("return math.fmod(7, 3) + math.abs(-2)", b":3\r\n"),
        ("return tostring(math.log(8, 2))", b"$15\r\n2.0794415416798\r\n"),
        ("return tostring(math.log10(1000))", b"$1\r\n3\r\n"),
        ("return tostring(tonumber('  12  '))", b"$2\r\n12\r\n"),
        ("return tonumber('1e2')", b":100\r\n"),
    ];
    let mut failures = Vec::new();
    let mut engine = Engine::new();
    for (body, expected) in cases {
        let got = eval_with(&mut engine, body, &[], &[], Protocol::Resp2);
        if got != *expected {
            failures.push(format!(
                "{body}\n  got:      {:?}\n  expected: {:?}",
                s(&got),
                s(expected)
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn pcall_edges_match_redis() {
    // Recorded from Redis 7.0.15. With no argument Redis's pcall calls its
    // own `true` placeholder.
    assert_eq!(
        s(&eval("return {pcall()}")),
        "*2\r\n$-1\r\n$31\r\nattempt to call a boolean value\r\n"
    );
    assert_eq!(
        s(&eval("return {pcall(1)}")),
        "*2\r\n$-1\r\n$30\r\nattempt to call a number value\r\n"
    );
    assert_eq!(
        s(&eval(
            "return {pcall(function(...) return select('#', ...) end, 1, nil, 3)}"
        )),
        "*2\r\n:1\r\n:3\r\n"
    );
}
