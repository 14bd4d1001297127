// H2O-3's Eigen projection of a categorical column (LinearAlgebraUtils.multiple, called by
// toEigenArray) for given level counts, from the real h2o.jar, next to each level's frequency:
//   java -cp "$(python -c 'import h2o, os; print(os.path.dirname(h2o.__file__))')/backend/bin/h2o.jar" \
//        benchmarks/H2OEigenProjection.java 98,60,30,12 50,50,50,50
// toEigenArray passes the Gram diagonal (the level frequencies, rounded to float; a missing row
// counts for the most frequent level), the row count and 1; the result is its row of Jama's V
// at the index of the numerically largest eigenvalue (docs/quirks.md).
import java.lang.reflect.Method;
import java.util.Arrays;

public class H2OEigenProjection {
  public static void main(String[] args) throws Exception {
    Method multiple = Class.forName("hex.util.LinearAlgebraUtils")
        .getDeclaredMethod("multiple", double[].class, int.class, int.class);
    multiple.setAccessible(true);
    for (String arg : args) {
      long[] counts = Arrays.stream(arg.split(",")).mapToLong(Long::parseLong).toArray();
      long n = Arrays.stream(counts).sum();
      double[] diag = new double[counts.length];
      for (int i = 0; i < counts.length; i++) diag[i] = (float) ((double) counts[i] / n);
      double[] v = (double[]) multiple.invoke(null, diag, (int) n, 1);
      StringBuilder s = new StringBuilder("counts " + arg + ": projection");
      for (double x : v) s.append(String.format(" %.4f", (float) x));
      System.out.println(s);
    }
  }
}
