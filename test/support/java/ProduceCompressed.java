import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.Properties;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Kafka's own Java producer (kafka-clients, the one kafka-console-producer.sh runs), writing each
 * "key<TAB>value" line of standard input to a topic with the given compression codec, batched.
 * Usage: java -cp '<kafka lib>/*' ProduceCompressed.java <bootstrap> <topic> <codec>
 */
public class ProduceCompressed {
  public static void main(String[] args) throws Exception {
    Properties props = new Properties();
    props.put("bootstrap.servers", args[0]);
    props.put("compression.type", args[2]);
    props.put("acks", "all");
    props.put("linger.ms", "200");
    props.put("batch.size", "1048576");
    props.put("key.serializer", StringSerializer.class.getName());
    props.put("value.serializer", StringSerializer.class.getName());
    int sent = 0;
    try (KafkaProducer<String, String> producer = new KafkaProducer<>(props);
        BufferedReader in =
            new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8))) {
      for (String line; (line = in.readLine()) != null; ) {
        int tab = line.indexOf('\t');
        producer.send(new ProducerRecord<>(args[1], line.substring(0, tab), line.substring(tab + 1)));
        sent++;
      }
      producer.flush();
    }
    System.out.println("sent " + sent);
  }
}
