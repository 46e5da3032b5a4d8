# A JRuby TLS server through jruby-openssl, for tests/support/tls_stacks.rs:
# serves one certificate on 127.0.0.1 with what `tls-policy render --for
# jruby` printed.
#
# Usage: jruby tls_stack_server.rb PORT CERT.pem KEY.pem SETTINGS
#
# SETTINGS is the render: `key = value` lines, `#` comments. `ciphers` is
# the cipher string for SSLContext#ciphers=, `min_version` and
# `max_version` (TLS1_2, TLS1_3) the protocol bounds, `jdk.tls.namedGroups`
# the groups. jruby-openssl drops
# the names its mapping does not know without a word, which is how the
# story's JRuby server ended up accepting everything: the suites it really
# enabled are printed, and an empty result stops the server.
# Prints "LISTENING <port>" once bound.
port, cert, key, settings_file = ARGV
abort 'usage: tls_stack_server.rb PORT CERT KEY SETTINGS' unless settings_file

settings = {}
File.readlines(settings_file, chomp: true).each do |line|
  line = line.strip
  next if line.empty? || line.start_with?('#')
  name, value = line.split('=', 2).map(&:strip)
  abort "#{settings_file}: not a `key = value` line: #{line}" unless value
  settings[name] = value.delete_prefix('"').delete_suffix('"')
end
# jruby-openssl cannot choose groups; the JDK under it reads
# jdk.tls.namedGroups once, when its first SSLContext is made, so any
# `jdk.tls.*` setting is applied before openssl is even loaded.
settings.each do |name, value|
  java.lang.System.set_property(name, value) if name.start_with?('jdk.tls.')
end
require 'openssl'
require 'socket'

ciphers = settings.fetch('ciphers') { abort "#{settings_file}: no ciphers (refusing the defaults)" }

context = OpenSSL::SSL::SSLContext.new
context.cert = OpenSSL::X509::Certificate.new(File.read(cert))
context.key = OpenSSL::PKey.read(File.read(key))
context.min_version = OpenSSL::SSL.const_get("#{settings['min_version']}_VERSION") if settings['min_version']
context.max_version = OpenSSL::SSL.const_get("#{settings['max_version']}_VERSION") if settings['max_version']
context.ciphers = ciphers
enabled = context.ciphers.map(&:first)
abort "#{settings_file}: jruby-openssl knows none of #{ciphers}" if enabled.empty?
puts "enabled suites: #{enabled.join(':')}"

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
