# A JRuby TLS server through jruby-openssl, for tests/support/tls_stacks.rs:
# serves one certificate on 127.0.0.1 with the code `tls-policy render
# --for jruby` printed.
#
# Usage: jruby tls_stack_server.rb PORT CERT.pem KEY.pem RENDER.rb
#
# RENDER.rb is the render as printed: Ruby that makes an SSLContext named
# `ctx` (versions, ciphers) and may set jdk.tls.namedGroups first. It is
# evaluated as is, then given the certificate. jruby-openssl drops the
# cipher names its table does not know without a word, which is how the
# story's JRuby server ended up with a policy nobody wrote: the suites it
# really enabled are printed, and none at all stops the server.
# Prints "LISTENING <port>" once bound.
require 'openssl'
require 'socket'

port, cert, key, render = ARGV
abort 'usage: tls_stack_server.rb PORT CERT KEY RENDER.rb' unless render

# The render's own top-level binding, so its local `ctx` is readable after.
scope = binding
scope.eval(File.read(render), render)
context = scope.local_variable_get(:ctx)
context.cert = OpenSSL::X509::Certificate.new(File.read(cert))
# jruby-openssl 0.14 reads a PKCS#8 ("BEGIN PRIVATE KEY") EC key as an RSA
# one, and the server then has no usable key for any suite, without a word
# until the first handshake. The harness passes the traditional form
# ("BEGIN EC PRIVATE KEY"), and the key read must be of the type it names.
pem = File.read(key)
kind = pem[/-----BEGIN (RSA|EC) PRIVATE KEY-----/, 1]
abort "#{key}: give the traditional PEM form (BEGIN RSA/EC PRIVATE KEY), not PKCS#8" unless kind
context.key = OpenSSL::PKey.read(pem)
unless context.key.is_a?(OpenSSL::PKey.const_get(kind))
  abort "#{key}: an #{kind} key read as #{context.key.class}"
end
enabled = context.ciphers.map(&:first)
abort "#{render}: jruby-openssl enabled no suite at all" if enabled.empty?
puts "enabled suites: #{enabled.join(':')}"
puts "jdk.tls.namedGroups: #{java.lang.System.get_property('jdk.tls.namedGroups') || "(the JDK's)"}"

server = OpenSSL::SSL::SSLServer.new(TCPServer.new('127.0.0.1', Integer(port)), context)
server.start_immediately = false
puts "LISTENING #{port}"
$stdout.flush
loop do
  client = server.accept
  Thread.new(client) do |tls|
    begin
      tls.accept
      tls.write("HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nnightwatch-testkit jruby\n")
    rescue StandardError, OpenSSL::SSL::SSLError
      # A refused handshake is what the scanner's probes are for.
      nil
    ensure
      tls.close rescue nil
    end
  end
end
